"""Prior knowledge from the domain notes (../shared/DOMAIN.md) as plain lists.

These lists give the model red flags before it has seen a single seizure. They are deliberately
short and documented; risk that shifts over time is learned from seizure history by
`features.rates`, not added here. Words are matched on description tokens after
`features.text.tokens` (upper case, trailing plural S removed). An entry of several words
("NGA VOI", ivory in Vietnamese) is matched as that phrase, and an entry in a script written
without spaces (Chinese, Japanese, Korean, Thai) anywhere in the text; entries are written
as officers type them and read as descriptions are (accents dropped).

The words are in English and in the languages manifests of the region are filed in: Chinese,
Japanese, Korean, Thai, Vietnamese, Indonesian and Malay, French; the CITES words in Khmer, Lao,
Burmese and Tagalog too.
"""

from __future__ import annotations

__all__ = [
    "CITES_COLOUR_MATERIALS",
    "CITES_COLOURS",
    "CITES_MATERIAL_PARTS",
    "CITES_GOODS_HEADINGS",
    "CITES_GOODS_WORDS",
    "CITES_HEADINGS",
    "CITES_NOT",
    "CITES_SUBHEADINGS",
    "CITES_WORD_NOT_CHAPTERS",
    "CITES_WOOD_COLOURS",
    "CITES_WOOD_MATERIALS",
    "CITES_WORDS",
    "COLD_MEDICINE_CHAPTERS",
    "COLD_MEDICINE_WORDS",
    "COOLED_CHAPTERS",
    "COOLED_HEADINGS",
    "COOLING_WORDS",
    "COVER_LOAD_HEADINGS",
    "COVER_LOAD_NOT",
    "COVER_LOAD_WORDS",
    "DEMAND_MARKETS",
    "GENERIC_WORDS",
    "LOGISTICS_BANKS",
    "LOGISTICS_NAME_ENDS",
    "LOGISTICS_NOT",
    "LOGISTICS_WORDS",
    "LOGISTICS_WORDS_REGION",
    "logistics_lexicon",
    "NOT_COOLED_HEADINGS",
    "RISKY_TRANSIT_COUNTRIES",
    "RISKY_TRANSIT_PORTS",
    "SAME_AS_CONSIGNEE",
    "SOURCE_COUNTRIES",
    "STOPWORDS",
    "PERMIT_ENDS",
    "PERMIT_ENDS_AFTER",
    "PERMIT_ENDS_AROUND",
    "PERMIT_MONTHS",
    "PERMIT_NOT_VALID",
    "PERMIT_NOT_YET",
    "PERMIT_PERIODS",
    "PERMIT_PLACEHOLDERS",
    "PERMIT_STARTS",
    "PERMIT_STARTS_AFTER",
    "PERMIT_TO",
    "TO_ORDER_PATTERN",
    "to_order_pattern",
    "VAGUE_PHRASES",
]

# Known source countries: ivory and pangolin scales, then cocaine.
SOURCE_COUNTRIES: frozenset[str] = frozenset(
    {"NG", "CD", "CG", "MZ", "KE", "TZ", "TG", "CO", "EC", "PA", "BR"}
)
# Transshipment hubs named in seizure cases, and the main demand markets.
RISKY_TRANSIT_PORTS: frozenset[str] = frozenset({"SGSIN", "MYPKG", "HKHKG", "ESALG"})
RISKY_TRANSIT_COUNTRIES: frozenset[str] = frozenset({"KH"})
DEMAND_MARKETS: frozenset[str] = frozenset({"VN", "CN", "HK"})

# Cover loads seen in real seizures: timber and logs, recycled plastic, cashew nuts, sesame,
# cassia seeds, frozen beef or fish, tea, seashells, soy, furniture parts, coconut products.
COVER_LOAD_WORDS: frozenset[str] = frozenset(
    {
        "TIMBER",
        "LOG",
        "LUMBER",
        "SAWN",
        "HARDWOOD",
        # plastic as the cover it is, scrap or waste ("PLASTIC TOYS" and "PLASTIC WATER PIPES"
        # were cover loads)
        "PLASTIC SCRAP",
        "PLASTIC SCRAPS",
        "PLASTICS SCRAP",
        "PLASTIC WASTE",
        "PLASTIC WASTES",
        "PLASTICS WASTE",
        "SCRAP PLASTIC",
        "SCRAP PLASTICS",
        "WASTE PLASTIC",
        "WASTE PLASTICS",
        "SCRAP OF PLASTIC",
        "SCRAP OF PLASTICS",
        "WASTE OF PLASTIC",
        "WASTE OF PLASTICS",
        "RECYCLED PLASTIC",
        "RECYCLED PLASTICS",
        "PLASTIC FLAKE",
        "PLASTIC FLAKES",
        "PLASTICS FLAKES",
        "BOTTLE FLAKES",
        "PET FLAKES",
        "PLASTIC REGRIND",
        "REGRIND",
        "CASHEW",
        "RCN",
        "SESAME",
        "CASSIA",
        "BEEF",
        "FISH",
        "TEA",
        "SEASHELL",
        "SHELL",
        "SOY",
        "SOYA",
        "SOYBEAN",
        "FURNITURE",
        "COCONUT",
        "COPRA",
        # Chinese and Japanese: logs, timber, sawn timber, plastic (waste), cashew, sesame,
        # cassia, beef, frozen fish, tea, shells, soya beans, furniture, coconut
        "原木",
        "木材",
        "锯材",
        "鋸材",
        "塑料",
        "塑膠",
        "腰果",
        "芝麻",
        "ごま",
        "カシューナッツ",
        "桂皮",
        "肉桂",
        "牛肉",
        "冻鱼",
        "凍魚",
        "茶叶",
        "茶葉",
        "贝壳",
        "貝殼",
        "大豆",
        "黄豆",
        "家具",
        "椰子",
        # Korean and Thai: logs, timber, plastic, cashew, sesame, tea, furniture; logs, timber,
        # plastic, cashew, sesame, tea, furniture
        "원목",
        "목재",
        "플라스틱",
        "캐슈",
        "참깨",
        "ไม้ซุง",
        "ไม้แปรรูป",
        "พลาสติก",
        "มะม่วงหิมพานต์",
        "เฟอร์นิเจอร์",
        # Vietnamese: logs, sawn timber, timber, plastic scrap, cashew, sesame, tea, furniture
        "GO TRON",
        "NHUA PHE LIEU",
        "GO XE",
        "HAT DIEU",
        "DIEU THO",
        "HAT VUNG",
        # Indonesian and Malay: logs, timber, plastic, cashew, sesame, tea, fish, coconut, copra
        "KAYU GELONDONGAN",
        "KAYU GERGAJIAN",
        "BALAK",
        "PLASTIK",
        "METE",
        "JAMBU METE",
        "GAJUS",
        "WIJEN",
        "BIJAN",
        "TEH",
        "IKAN",
        "KOPRA",
        "PERABOT",
        "MEBEL",
        # French: logs, timber, sawn timber, plastic, cashew, sesame, beef, fish, tea, shells,
        # soya, furniture, coconut
        "GRUMES",
        "THE VERT",
        "THE NOIR",
        "BOIS SCIE",
        "BOIS BRUT",
        "PLASTIQUE",
        "PLASTIQUES",
        "NOIX DE CAJOU",
        "CAJOU",
        "BOEUF",
        "POISSON",
        "COQUILLAGES",
        "MEUBLES",
        "NOIX DE COCO",
    }
)
# Compounds that hold a cover-load word and name other goods: read as if absent before the
# cover-load words are looked for (tea-tree shampoo, tea lights, fish sauce, soy sauce, a beef
# flavour, soft-shell jackets were cover loads).
COVER_LOAD_NOT: frozenset[str] = frozenset(
    {
        "TEA TREE",
        "TEA LIGHT",
        "TEA LIGHTS",
        "TEA TOWEL",
        "TEA TOWELS",
        "TEA SET",
        "TEA SETS",
        "ICED TEA",
        "FISH SAUCE",
        "FISH SAUCES",
        "FISH OIL",
        "FISH OILS",
        "ICE TEA",
        "SOY SAUCE",
        "SOY SAUCES",
        "SOY LECITHIN",
        "BEEF FLAVOUR",
        "BEEF FLAVOR",
        "SOFT SHELL",
        "PHONE SHELL",
        "PHONE SHELLS",
    }
)
COVER_LOAD_HEADINGS: frozenset[str] = frozenset(
    {
        "4403",  # logs
        "4407",  # sawn wood
        "3915",  # plastic waste and scrap
        "0801",  # cashew, coconuts
        "1207",  # sesame and other oil seeds
        "0906",  # cinnamon and cassia
        "0201",  # beef, fresh or chilled
        "0202",  # beef, frozen
        "0303",  # fish, frozen
        "0304",  # fish fillets
        "0902",  # tea
        "0508",  # shells
        "1201",  # soya beans
        "9403",  # furniture and parts
    }
)

# Vague descriptions: whole phrases (regular expressions on the normalised text, matched as whole
# words), and words that say nothing about the goods on their own. "SAID TO CONTAIN" and "STC"
# are words of the second kind, not phrases: a bill of lading's boilerplate before the goods
# ("STC 500 CTNS FROZEN SHRIMP" was vague), vague when nothing specific follows.
VAGUE_PHRASES: tuple[str, ...] = (
    "FAK",
    "F A K",  # F.A.K., its dots made spaces
    "FREIGHT ALL KINDS?",
    "GENERAL CARGO(ES)?",
    "GENERAL MERCHANDISE",
    "GENERAL GOODS",
    "MIXED GOODS",
    "VARIOUS GOODS",
    "PERSONAL EFFECTS",
    "(GOODS )?AS PER (PROFORMA |COMMERCIAL )?INVOICE",
    "CONSOLIDATED CARGO(ES)?",
)
GENERIC_WORDS: frozenset[str] = frozenset(
    {
        "PART",
        "GOOD",
        "CARGO",
        "CARGOE",  # "CARGOES"
        "ITEM",
        "PRODUCT",
        "MATERIAL",
        "MERCHANDISE",
        "SPARE",
        "GENERAL",
        "VARIOU",  # "VARIOUS" after the plural S is removed
        "ASSORTED",
        "MIXED",
        "MISC",
        "MISCELLANEOU",
        "OTHER",
        "ACCESSORIE",
        "ACCESSORY",
        "ARTICLE",
        "GIFT",
        "CONSUMER",
        "HOUSEHOLD",
        "NEW",
        "SAMPLE",
        "STC",
        "FAK",
        "SAID",
        "CONTAIN",
        "PACKAGE",
        "PKG",
        "PALLET",
        "BOX",
        "BOXE",  # "BOXES" after the plural S is removed
        "CARTON",
        "BAG",
        "CTN",
        "PCS",
    }
)

# CITES-sensitive goods: ivory and horn lines, and words for listed species and products. Not
# FIN or HORN alone: "SUCRE FIN" (fine sugar, French) and "SHOE HORN" were made mandatory CITES
# inspections; shark fin and rhino horn are found by SHARK and RHINO, horn lines by heading 0507.
CITES_HEADINGS: frozenset[str] = frozenset({"0507"})
# Subheadings that name CITES goods themselves: shark fins fresh, frozen and dried (0302.92,
# 0303.92, 0305.71) and worked ivory (9601.10): "DRIED SEAFOOD" under 0305.71 was no CITES line.
CITES_SUBHEADINGS: frozenset[str] = frozenset({"030292", "030392", "030571", "960110"})
# Chapters (two digits) and headings (four) where a CITES word names a colour, a pattern or a
# brand, not goods of the species: paints (32), soap (34), paper (48), textiles and clothing
# (50-63), footwear (64), machines and electrical goods (84, 85), vehicles (87); plaster and
# cement boards, ceramic tiles, sanitary ware and tableware, glassware, toys and sports goods
# (9503, 9506; not 9504, where carved ivory chess and mahjong pieces are declared): "IVORY"
# tiles, "SHARK" vacuum cleaners, "RHINO" roof bars and "BABY SHARK" plush toys were mandatory
# CITES inspections. Carvings and ornaments of stone or ceramics (6802, 6913) are not among
# them: "IVORY CARVINGS" declared as ceramic ornaments is the misdeclaration the rule is for.
# The HS code's own CITES lines stay CITES lines.
CITES_WORD_NOT_CHAPTERS: frozenset[str] = frozenset(
    {"32", "34", "48", *(str(c) for c in range(50, 65)), "84", "85", "87"}
    | {"6809", "6810", "6907", "6910", "6911", "6912", "7013", "9503", "9506"}
)
CITES_WORDS: frozenset[str] = frozenset(
    {
        "IVORY",
        "RHINO",
        "RHINOCEROS",
        "PANGOLIN",
        "ROSEWOOD",
        "DALBERGIA",
        "PTEROCARPUS",
        "SHARK",
        "TOTOABA",
        "AGARWOOD",
        "EBONY",
        "TORTOISE",
        "CORAL",
        "SAIGA",
        # trade names of the same goods: tusks, tortoiseshell and hawksbill (bekko), shark fin in
        # one word, the rosewoods of West and Central Africa, Madagascar and India (kosso,
        # mukula, palisander, red sanders), hongmu furniture, African blackwood (mpingo),
        # agarwood as aloeswood, bubinga; "IVORIES" reads as IVORIE once its plural S is off
        "IVORIES",
        "TUSK",
        "TORTOISESHELL",
        "HAWKSBILL",
        "BEKKO",
        "SHARKFIN",
        "KOSSO",
        "MUKULA",
        "PALISANDER",
        "HONGMU",
        "MPINGO",
        "ALOESWOOD",
        "BUBINGA",
        "ROSE WOOD",
        "RED SANDERS",
        "RED SANDALWOOD",
        "AFRICAN BLACKWOOD",
        # Chinese and Japanese: ivory, pangolin, rosewood (hongmu, zitan, huali, suanzhi),
        # rhino horn, shark fin, agarwood, ebony, hawksbill shell, coral
        "象牙",
        "穿山甲",
        "センザンコウ",
        "红木",
        "紅木",
        "紫檀",
        "花梨",
        "酸枝",
        "黄花梨",
        "犀角",
        "犀牛角",
        "サイの角",
        "鱼翅",
        "魚翅",
        "フカヒレ",
        "沉香",
        "乌木",
        "烏木",
        "黑檀",
        "玳瑁",
        "珊瑚",
        # Japanese as it is also written: rosewood, ebony, tortoiseshell (bekko), coral,
        # agarwood, shark fin (not キャラ or 伽羅, kyara agarwood: 伽羅蕗 is a simmered
        # vegetable; ローズウッド調, べっ甲柄, サンゴ礁 and サンゴールド kiwifruit are in `CITES_NOT`)
        "ローズウッド",
        "黒檀",
        "べっ甲",
        "鼈甲",
        "ベッコウ",
        "サンゴ",
        "沈香",
        "ふかひれ",
        # Korean, written with spaces, so each a whole word: ivory, pangolin, rhino, shark fin,
        # agarwood, rosewood (zitan), ebony, coral, hawksbill shell (not 대모 alone: also a
        # godmother)
        "상아",
        "천산갑",
        "코뿔소",
        "샥스핀",
        "상어 지느러미",
        "상어지느러미",
        "침향",
        "자단",
        "로즈우드",
        "흑단",
        "산호",
        "대모갑",
        # Thai: ivory, pangolin (scales), Siamese rosewood, rhino horn, shark fin, agarwood, coral
        # (not ลิ่น alone: it is in กลิ่น, scent; nor ตัวนิ่ม, a plush toy's "soft body")
        "งาช้าง",
        "ตัวลิ่น",
        "เกล็ดลิ่น",
        "เกล็ดตัวนิ่ม",
        "พะยูง",
        "นอแรด",
        "หูฉลาม",
        "ไม้กฤษณา",
        "ปะการัง",
        # Thai: the Burmese and Siamese rosewoods (chingchan) and the hawksbill's shell (not
        # เต่ากระ alone: the turtle's name runs into กระดาษ, paper, in เต่ากระดาษ)
        "ไม้ชิงชัน",
        "กระดองเต่ากระ",
        # Khmer, Lao and Burmese: ivory (elephant tusk), pangolin, Siamese rosewood, rhino horn
        # (Lao ລີ່ນ, pangolin, as scales or the animal only, as Thai ลิ่น)
        "ភ្លុកដំរី",
        "ភ្លុកសត្វដំរី",
        "ពង្រូល",
        "ក្រញូង",
        "ស្នែងរមាស",
        "ງາຊ້າງ",
        "ເກັດລີ່ນ",
        "ໂຕລີ່ນ",
        "ໄມ້ພະຍູງ",
        "ໄມ້ກະຍູງ",
        "ນໍແຮດ",
        "ဆင်စွယ်",
        "သင်းခွေချပ်",
        "ကြံ့ချို",
        # Vietnamese: ivory, pangolin (scales), rosewood, rhino horn, shark fin, agarwood,
        # ebony, coral
        "NGA VOI",
        "TE TE",
        "VAY TE TE",
        "GO TRAC",
        "GO CAM LAI",
        "SUNG TE GIAC",
        "VAY CA MAP",
        "TRAM HUONG",
        "GO MUN",
        "SAN HO",
        # shark fin as Vietnamese also says it (vi), rhino, hawksbill (its shell, the turtle;
        # not DOI MOI alone: without its tone marks it is also "renewal", doi moi)
        "VI CA MAP",
        "TE GIAC",
        "MAI DOI MOI",
        "RUA DOI MOI",
        # Indonesian and Malay: ivory, pangolin, rosewood, rhino horn, shark fin, agarwood, coral
        "GADING GAJAH",
        "TRENGGILING",
        "TENGGILING",
        "SONOKELING",
        "CULA BADAK",
        "SIRIP HIU",
        "SIRIP IKAN HIU",
        "SIRIP YU",
        "SIRIP IKAN YU",
        "GAHARU",
        # rhino horn (not BADAK alone: Badak is an LNG terminal in East Kalimantan), red sanders,
        # the hawksbill and its shell
        "TANDUK BADAK",
        "CENDANA MERAH",
        "PENYU SISIK",
        "SISIK PENYU",
        # Tagalog: ivory (not GARING alone: in Indonesian and Javanese it is "crisp", KACANG
        # GARING), pangolin, shark fin, sea turtle
        "GARING NG ELEPANTE",
        "INUKIT NA GARING",
        "PANGIL NG ELEPANTE",
        "BALINTONG",
        "PALIKPIK NG PATING",
        "PAWIKAN",
        # coral: ornamental, stone, sea and red coral (not KARANG alone, a place name as in
        # Karangasem coffee)
        "KARANG HIAS",
        "BATU KARANG",
        "KARANG LAUT",
        "KARANG MERAH",
        # French: ivory, tusks, rosewood, rhino horn, shark fin, ebony, coral, tortoiseshell (not
        # IVOIRE, CORAIL or EBENE alone: cocoa "DE COTE D'IVOIRE", colours, wood stains)
        "EN IVOIRE",
        "IVOIRE BRUT",
        "IVOIRE SCULPTE",
        "IVOIRE TRAVAILLE",
        "DEFENSES D ELEPHANT",
        "DEFENSE D ELEPHANT",
        "BOIS D EBENE",
        "CORAIL ROUGE",
        "BOIS DE ROSE",
        "PALISSANDRE",
        "CORNE DE RHINOCEROS",
        "AILERON DE REQUIN",
        "AILERONS DE REQUIN",
        "ECAILLE DE TORTUE",
    }
)

# The colour compounds (`CITES_COLOURS`) that name a precious wood (rosewood, ebony, agarwood):
# a wood word does not say such goods are not of the species, as it does for an ivory or coral
# colour (`CITES_WOOD_MATERIALS`).
CITES_WOOD_COLOURS: frozenset[str] = frozenset(
    {
        "ROSEWOOD COLOUR",
        "ROSEWOOD COLOR",
        "EBONY COLOUR",
        "EBONY COLOR",
        "EBONY BLACK",
        "红木色",
        "紅木色",
        "紫檀色",
        "花梨色",
        "乌木色",
        "烏木色",
        "黑檀色",
        "沉香色",
        "黒檀色",
        "ローズウッド色",
        "ローズウッドカラー",
        "로즈우드 색상",
        "로즈우드 컬러",
    }
)

# The colour compounds among `CITES_NOT` (not the country, the fabrics, the patterns or the brands):
# ivory white and coral pink name the colour of paint, tiles or shirts, and of the carvings,
# beads and jewellery made of ivory and coral themselves. "IVORY WHITE CARVINGS" and "CORAL PINK
# JEWELLERY" lost the mandatory CITES rule to the compound; a colour compound on a line that
# also names such goods (`CITES_GOODS_WORDS`) counts as its CITES word under the codes those
# goods are classed in (`CITES_GOODS_HEADINGS`), or without a code.
CITES_COLOURS: frozenset[str] = CITES_WOOD_COLOURS | frozenset(
    {
        "IVORY WHITE",
        "IVORY COLOUR",
        "IVORY COLOR",
        "COLOUR IVORY",
        "COLOR IVORY",
        "CORAL PINK",
        "CORAL COLOUR",
        "CORAL COLOR",
        "TORTOISE COLOUR",
        "TORTOISE COLOR",
        "象牙白",
        "象牙色",
        "象牙黄",
        "珊瑚色",
        "珊瑚红",
        "珊瑚紅",
        "珊瑚粉",
        "玳瑁色",
        # ivory colour in Thai, Lao, Burmese and Vietnamese; coral and tortoiseshell colours in
        # Japanese
        "สีงาช้าง",
        "ສີງາຊ້າງ",
        "ဆင်စွယ်ရောင်",
        "MAU NGA VOI",
        "サンゴ色",
        "べっ甲色",
        "鼈甲色",
        "ベッコウ色",
    }
)

# Compounds that hold a CITES word and name a colour, a finish, a grade, a country or a brand,
# not the species: read as if absent before the CITES words are looked for ("象牙白色瓷砖",
# ivory-white tiles, "红木色餐桌", a mahogany-coloured table, "珊瑚绒毯子", a coral-fleece
# blanket; "RAW CASHEW NUTS IVORY COAST ORIGIN" was a mandatory CITES inspection). Ivory board
# and paper are read by their chapter (48, `CITES_WORD_NOT_CHAPTERS`), not as a phrase: "CARVED
# IVORY BOARD GAME PIECES" is ivory.
CITES_NOT: frozenset[str] = CITES_COLOURS | frozenset(
    {
        "IVORY COAST",
        "CORAL FLEECE",
        "CORAL VELVET",
        "BABY SHARK",
        "TORTOISE SHELL PATTERN",
        "TORTOISESHELL PATTERN",
        "TORTOISE PATTERN",
        "ROSEWOOD GRAIN",
        "ROSEWOOD FINISH",
        "ROSEWOOD EFFECT",
        "EBONY FINISH",
        "珊瑚绒",  # coral fleece
        "珊瑚絨",
        "玳瑁纹",  # tortoiseshell pattern
        "玳瑁紋",
        "犀牛盾",  # a phone-case brand
        # Japanese: rosewood, ebony and tortoiseshell style, pattern or grain (acetate glasses
        # frames and hair clips are べっ甲柄), a coral reef (reef-safe sunscreen), SunGold
        # kiwifruit and Saint-Gobain (サンゴールド, サンゴバン hold サンゴ), imitation shark fin
        # (フカヒレ風 glass noodles; Chinese 仿鱼翅, 素鱼翅); Korean rosewood pattern
        "ローズウッド調",
        "ローズウッド柄",
        "ローズウッド木目",
        "黒檀調",
        "べっ甲調",
        "べっ甲柄",
        "べっ甲風",
        "鼈甲調",
        "鼈甲柄",
        "ベッコウ調",
        "ベッコウ柄",
        "サンゴ礁",
        "珊瑚礁",
        "サンゴールド",
        "サンゴバン",
        "フカヒレ風",
        "ふかひれ風",
        "仿鱼翅",
        "素鱼翅",
        "로즈우드 무늬",
    }
)

# Materials that a line of goods names as what they are made of, neither ivory, coral,
# tortoiseshell nor a precious wood: next to them a colour compound names the goods' colour, so
# "IVORY WHITE PORCELAIN FIGURINES" (6913), "CORAL PINK GLASS BEADS" (7117), "IVORY WHITE RESIN
# FIGURINE" and "CORAL PINK ACRYLIC BANGLES" were mandatory CITES inspections. Ceramics, glass,
# plastics and resins, base metals (not gold, silver or sterling: coral and ivory are set in
# them, 7113, 7116), in English and Chinese as the colour lists are. Not BONE alone (ivory is
# declared as bone carvings), nor stone or shell; a word alone counts, never a colour's word
# itself: "IVORY CARVINGS WITH RESIN BASE" holds IVORY and stays a CITES line whatever the
# materials, and a material of a base, stand or box (`CITES_MATERIAL_PARTS`) is not the goods'.
CITES_COLOUR_MATERIALS: frozenset[str] = frozenset(
    {
        "PORCELAIN",
        "CERAMIC",
        "CERAMICS",
        "BONE CHINA",
        "STONEWARE",
        "EARTHENWARE",
        "TERRACOTTA",
        "GLASS",
        "RESIN",
        "POLYRESIN",
        "POLYSTONE",
        "PLASTIC",
        "ACRYLIC",
        "MELAMINE",
        "POLYESTER",
        "PVC",
        "ABS",
        "SILICONE",
        "RUBBER",
        "STAINLESS",
        "STEEL",
        "IRON",
        "ALLOY",
        "ZINC",
        "BRASS",
        "COPPER",
        "ALUMINIUM",
        "ALUMINUM",
        "陶瓷",
        "瓷",
        "陶",
        "树脂",
        "樹脂",
        "塑料",
        "橡胶",
        "橡膠",
        "塑胶",
        "塑膠",
        "玻璃",
        "亚克力",
        "亞克力",
        "压克力",
        "壓克力",
        "密胺",
        "不锈钢",
        "不鏽鋼",
        "合金",
        "锌",
        "鋅",
        "黄铜",
        "黃銅",
    }
)
# Wood, which says goods of an ivory, coral or tortoiseshell colour are not of the species, but
# not goods of a rosewood or ebony colour (`CITES_WOOD_COLOURS`): rosewood and ebony are woods.
CITES_WOOD_MATERIALS: frozenset[str] = frozenset(
    {"WOOD", "WOODEN", "MDF", "PLYWOOD", "BAMBOO", "木制", "木製", "木质", "木質", "竹"}
)
# What a line's base, stand, box or frame is made of is not what its goods are made of: "IVORY
# WHITE CARVINGS WITH RESIN BASE" names the carvings' colour and the base's material.
CITES_MATERIAL_PARTS: frozenset[str] = frozenset(
    {
        "BASE",
        "BASES",
        "STAND",
        "STANDS",
        "BOX",
        "BOXES",
        "CASE",
        "CASES",
        "FRAME",
        "FRAMES",
        "DISPLAY",
        "PLINTH",
        "MOUNT",
        "HOLDER",
        "底座",
        "座",
        "盒",
        "架",
    }
)
# Goods made of ivory, coral, tortoiseshell or precious woods themselves: carvings, figurines,
# statues, beads, bangles and jewellery, ornaments, tusks, chopsticks, seals (hanko), netsuke;
# single words are read as description tokens (plural S off). Chinese: carving, sculpture,
# ornament, figurine, statue, bead(s), bracelet, bangle, necklace, pendant, jewellery,
# chopsticks, seal, tusk; Japanese: hanko, netsuke.
CITES_GOODS_WORDS: frozenset[str] = frozenset(
    {
        "CARVING",
        "CARVED",
        "FIGURINE",
        "FIGURE",
        "STATUE",
        "STATUETTE",
        "SCULPTURE",
        "SCULPTED",
        "BEAD",
        "BANGLE",
        "BRACELET",
        "NECKLACE",
        "PENDANT",
        "EARRING",
        "BROOCH",
        "CAMEO",
        "JEWELLERY",
        "JEWELRY",
        "JEWELERY",
        "ORNAMENT",
        "TUSK",
        "CHOPSTICK",
        "SEAL",
        "HANKO",
        "NETSUKE",
        "OKIMONO",
        "CURIO",
        "ROSARY",
        "HAIRPIN",
        "雕",
        "摆件",
        "擺件",
        "工艺品",
        "工藝品",
        "佛像",
        "雕像",
        "珠",
        "手镯",
        "手鐲",
        "手链",
        "手鏈",
        "项链",
        "項鏈",
        "吊坠",
        "吊墜",
        "首饰",
        "首飾",
        "饰品",
        "飾品",
        "筷",
        "印章",
        "印鑑",
        "根付",
    }
)
# Where such goods are classed or declared: worked ivory, bone, coral and other carving material
# (9601, 9602), jewellery of precious metal, of pearls and stones, and imitation jewellery (7113,
# 7116, 7117), works of art, sculptures, collectors' pieces and antiques (97), horn and ivory
# unworked (0507), coral and shells (0508), and the carvings and ornaments of stone, wood and
# ceramics that carved ivory is declared as (6802, 4420, 6913). Not paint, tiles, clothing or
# toys: "IVORY WHITE PAINT", "IVORY WHITE TILES" and "CORAL PINK T-SHIRTS" name a colour.
CITES_GOODS_HEADINGS: frozenset[str] = frozenset(
    {"97", "0507", "0508", "4420", "6802", "6913", "7113", "7116", "7117", "9601", "9602"}
)

# Goods that need a reefer: meat, fish, dairy, bulbs, live plants and flowers, vegetables, fresh
# fruit, prepared meat and fish, chocolate, ice cream, vaccines; nuts and dried fruit do not.
# Chocolate travels at 12-20 C and flower bulbs at controlled temperatures (4-14 C, or 17-20 C
# before forcing) with fresh air: "MILK CHOCOLATE BARS" (1806) and "TULIP BULBS" (0601, which
# was listed as needing no cooling) in reefers were flagged as reefers for goods that need none.
COOLED_CHAPTERS: frozenset[str] = frozenset({"02", "03", "04", "06", "07", "08", "16"})
COOLED_HEADINGS: frozenset[str] = frozenset({"1806", "2105", "3002"})
NOT_COOLED_HEADINGS: frozenset[str] = frozenset({"0801", "0802", "0813"})
# Medicines that travel at 2-8 C, named by the description under chapter 30 (medicaments of 3004
# are mostly kept at room temperature, so the heading alone does not say): insulin and vaccines,
# in English, French, Indonesian and Malay, Vietnamese, Chinese, Japanese, Korean and Thai. Not
# counted outside the chapter: "INSULIN SYRINGES" and "VACCINE CARRIERS" need no cooling.
COLD_MEDICINE_CHAPTERS: frozenset[str] = frozenset({"30"})
COLD_MEDICINE_WORDS: frozenset[str] = frozenset(
    {
        "INSULIN",
        "INSULINE",
        "VACCINE",
        "VACCIN",
        "VACCINS",
        "VAKSIN",
        "VACXIN",
        "胰岛素",
        "胰島素",
        "疫苗",
        "インスリン",
        "ワクチン",
        "인슐린",
        "백신",
        "อินซูลิน",
        "วัคซีน",
    }
)
# Words that say the goods are kept cold (not REEFER: it names the box, and "CASHEW NUTS REEFER
# CARGO" in a reefer was no reefer for goods that need none).
COOLING_WORDS: frozenset[str] = frozenset(
    {
        "FROZEN",
        "CHILLED",
        "FRESH",
        "REFRIGERATED",
        # Chinese and Japanese, Korean, Thai: frozen, chilled, fresh
        "冷冻",
        "冷凍",
        "新鲜",
        "冷藏肉",
        "冷藏鱼",
        "生鮮",
        "냉동",
        "냉장",
        "แช่แข็ง",
        "แช่เย็น",
        # Vietnamese, Indonesian and Malay, French
        "DONG LANH",
        "UOP LANH",
        "BEKU",
        "SEJUK BEKU",
        "SEGAR",
        "CONGELE",
        "CONGELEE",
        "SURGELEE",
        "REFRIGEREE",
        "FRAICHE",
        "CONGELES",
        "SURGELE",
        "SURGELES",
        "REFRIGERE",
        # a cold chain or a 2-8 C store, as written once punctuation is spaces ("2-8°C",
        # "2~8℃" and "+2 TO +8 DEG C" are "2 8 C", "2 8 C" and "2 TO 8 DEG C"): pharmaceuticals
        # filed "COLD CHAIN" or "STORE AT 2-8 C" in a reefer were flagged; cold chain in
        # Chinese, Japanese, Korean, Vietnamese, Indonesian and Malay, French
        "COLD CHAIN",
        "KEEP COLD",
        "2 8 C",
        "2 8C",
        "2 8 DEG C",
        "2 8 DEGC",
        "2 8 DEGREES",
        "2 8 DEGREE",
        "2 C 8 C",
        "2 TO 8 C",
        "2 TO 8C",
        "2 TO 8 DEG C",
        "2 TO 8 DEGREES",
        "2 C TO 8 C",
        "冷链",
        "冷鏈",
        "コールドチェーン",
        "콜드체인",
        "CHUOI LANH",
        "RANTAI DINGIN",
        "CHAINE DU FROID",
    }
)

# A CITES permit reference that says there is none, as normalised text (punctuation to spaces:
# "N/A" is "N A", "-" is empty); a reference of zeros says the same.
PERMIT_PLACEHOLDERS: frozenset[str] = frozenset(
    {
        "",
        "N A",
        "NA",
        "NONE",
        "NIL",
        "NULL",
        "NO",
        "NO PERMIT",
        "NOT APPLICABLE",
        "NOT AVAILABLE",
        "NOT REQUIRED",
        "PENDING",
        "TBA",
        "TBC",
        "UNKNOWN",
        # in the region's languages: none, not applicable, not available (Chinese, Japanese,
        # Korean, Thai, Vietnamese, Indonesian and Malay, French); read as the permit reference
        # is read, so "Ｎ／Ａ" is "N A" and "KHÔNG" is "KHONG"
        "无",
        "無",
        "没有",
        "沒有",
        "不适用",
        "不適用",
        "暂无",
        "なし",
        "無し",
        "該当なし",
        "없음",
        "해당없음",
        "해당 없음",
        "ไม่มี",
        "KHONG",
        "KHONG CO",
        "KHONG AP DUNG",
        "TIDAK ADA",
        "TIADA",
        "TIDAK BERLAKU",
        "KOSONG",
        "NEANT",
        "AUCUN",
        "AUCUNE",
        "SANS",
        "SANS OBJET",
        "NON",
        "NON APPLICABLE",
        "NON DISPONIBLE",
    }
)

# Words in a CITES permit reference that say the permit is not there yet, anywhere in the
# reference as words (as it is normalised: "APPLIED 12/2025" is APPLIED 12 2025): a reference
# with a digit was read as a permit held, so "PENDING 2025", "APPLIED 12/2025" and "AWAITING
# PERMIT 2026" switched the mandatory CITES rule off. An application is no permit. In English,
# then the region's languages as officers type them (accents dropped): applying, in process,
# awaiting, to follow (Chinese, Japanese, Korean, Thai, Vietnamese, Indonesian and Malay,
# French; not French EN COURS alone, which is also "EN COURS DE VALIDITE", valid).
PERMIT_NOT_YET: frozenset[str] = frozenset(
    {
        "PENDING",
        "APPLIED",
        "APPLYING",
        "APPLICATION",
        "AWAITING",
        "AWAITED",
        "WAITING",
        "TO FOLLOW",
        "WILL FOLLOW",
        "TO BE FOLLOWED",
        "TO BE ISSUED",
        "TO BE PROVIDED",
        "TO BE SUBMITTED",
        "TO BE ADVISED",
        "TO BE CONFIRMED",
        "TO BE OBTAINED",
        "NOT YET",
        "IN PROCESS",
        "IN PROCESSING",
        "IN PROGRESS",
        "UNDER PROCESS",
        "UNDER PROCESSING",
        "UNDER APPLICATION",
        "BEING PROCESSED",
        "TBA",
        "TBC",
        "TBD",
        "申请中",
        "申請中",
        "办理中",
        "辦理中",
        "审批中",
        "審批中",
        "待定",
        "待补",
        "待補",
        "待发",
        "未取得",
        "手続中",
        "手続き中",
        "신청중",
        "신청 중",
        "발급 예정",
        "발급예정",
        "รอดำเนินการ",
        "รออนุมัติ",
        "รอการอนุมัติ",
        "ยื่นขอ",
        "อยู่ระหว่างดำเนินการ",
        "DANG XIN",
        "DANG CHO",
        "CHO CAP",
        "CHUA CO",
        "BO SUNG SAU",
        "DALAM PROSES",
        "MENUNGGU",
        "MENYUSUL",
        "BELUM ADA",
        "SEDANG DIPROSES",
        "EN ATTENTE",
        "A SUIVRE",
        "A VENIR",
        "DEMANDE EN COURS",
        "EN COURS DE DELIVRANCE",
        "EN COURS D OBTENTION",
        "EN COURS DE TRAITEMENT",
    }
)

# Words in a CITES permit reference that say the permit is no longer or never was valid, read as
# `PERMIT_NOT_YET` is: "EXPIRED 2024", "REVOKED 12345", "CANCELLED 2025" hold a digit, so they were
# read as permits held. Past forms only: EXP, EXPIRY, EXPIRES and VALID UNTIL give the date a
# valid permit ends ("21US12345/9 EXP 2026-12-31"), and EXP is also "export" ("EXP PERMIT
# 12345"). The date itself is not compared with the filing. In the region's languages the forms
# that say it has happened (already expired, cancelled, revoked, refused; not the words that head
# an expiry date: 到期, 失效日期, 만료일, วันหมดอายุ, NGAY HET HAN, TANGGAL KEDALUWARSA, EXPIRE LE).
PERMIT_NOT_VALID: frozenset[str] = frozenset(
    {
        "EXPIRED",
        "LAPSED",
        "OUT OF DATE",
        "NO LONGER VALID",
        "NOT VALID",
        "INVALID",
        "INVALIDATED",
        "VOID",
        "VOIDED",
        "REVOKED",
        "REFUSED",
        "REJECTED",
        "DENIED",
        "DECLINED",
        "CANCELLED",
        "CANCELED",
        "WITHDRAWN",
        "SUSPENDED",
        "已过期",
        "已過期",
        "已失效",
        "已撤销",
        "已撤銷",
        "已取消",
        "吊销",
        "吊銷",
        "作废",
        "作廢",
        "无效",
        "無效",
        "驳回",
        "駁回",
        "拒绝",
        "拒絕",
        "期限切れ",
        "失効済",
        "取消済",
        "取り消し済",
        "無効",
        "却下",
        "만료됨",
        "기간만료",
        "취소됨",
        "거부됨",
        "무효",
        "반려",
        "หมดอายุแล้ว",
        "ถูกยกเลิก",
        "ยกเลิกแล้ว",
        "ถูกเพิกถอน",
        "ถูกปฏิเสธ",
        "ไม่อนุมัติ",
        "DA HET HAN",
        "DA HET HIEU LUC",
        "DA HUY",
        "BI HUY",
        "BI THU HOI",
        "BI TU CHOI",
        "KHONG HOP LE",
        "SUDAH KEDALUWARSA",
        "TELAH KEDALUWARSA",
        "SUDAH KADALUARSA",
        "TELAH KADALUARSA",
        "TELAH TAMAT TEMPOH",
        "DIBATALKAN",
        "DICABUT",
        "DITOLAK",
        "TIDAK SAH",
        "PERIME",
        "PERIMEE",
        "ANNULE",
        "ANNULEE",
        "REVOQUE",
        "REVOQUEE",
        "REJETE",
        "REJETEE",
        "NON VALIDE",
        "INVALIDE",
    }
)

# Words in a CITES permit reference that head the date the permit ends ("21US12345/9 VALID
# UNTIL 2023-12-31", "EXP 31 DEC 2023"): a permit whose end date is before the day the line was
# filed is no permit (`features.row.permit_expiry`). Only a date that follows one of them directly
# counts (EXP is also "export": "EXP PERMIT 2023/118" is a permit number), and only a date that
# reads one way: year first ("2023-12-31", "2023/12/31", "2023年12月31日"), or a month written as a
# word (`PERMIT_MONTHS`); "31/12/2023" or "12/11/2023" is not read. In English, then the region's
# languages (Chinese, Japanese, Korean, Thai, Vietnamese, Indonesian and Malay, French).
PERMIT_ENDS: frozenset[str] = frozenset(
    {
        "EXP",
        "EXP DATE",
        "EXP DT",
        "EXPIRY",
        "EXPIRY DATE",
        "EXPIRES",
        "EXPIRES ON",
        "EXPIRE",
        "EXPIRING",
        "EXPIRATION",
        "EXPIRATION DATE",
        "VALID UNTIL",
        "VALID TILL",
        "VALID TO",
        "VALID THRU",
        "VALID THROUGH",
        "VALID UPTO",
        "VALID UP TO",
        "VALID TIL",
        "VALIDITY",
        "UNTIL",
        "DATE OF EXPIRY",
        "DATE OF EXPIRATION",
        "有效期至",
        "有效至",
        "有效期",
        "有效期限",
        "到期",
        "到期日",
        "截止日期",
        "有效期限至",
        "失效日期",
        "有効期限",
        "유효기간",
        "만료일",
        "วันหมดอายุ",
        "หมดอายุ",
        "ใช้ได้ถึง",
        "NGAY HET HAN",
        "HET HAN",
        "HAN SU DUNG",
        "HAN HIEU LUC",
        "HIEU LUC DEN",
        "CO HIEU LUC DEN",
        "BERLAKU HINGGA",
        "BERLAKU SAMPAI",
        "BERLAKU SAMPAI DENGAN",
        "BERLAKU S D",
        "TANGGAL KEDALUWARSA",
        "SAH SEHINGGA",
        "TAMAT TEMPOH",
        "EXPIRE LE",
        "VALABLE JUSQU AU",
        "VALIDE JUSQU AU",
        "DATE D EXPIRATION",
    }
)
# Words in a CITES permit reference that head the date a permit starts to be valid ("VALID FROM
# 2026-01-01", "EFFECTIVE 1 JAN 2026"): a permit that starts after the day the line was filed is
# not there yet (`features.row.permit_start`), read as `PERMIT_ENDS` are. Not ISSUED (a permit
# issued after the filing may be a later amendment's) nor FROM alone (`PERMIT_PERIODS`). In
# English, then the region's languages (Chinese, Japanese, Korean, Thai, Vietnamese, Indonesian
# and Malay, French).
PERMIT_STARTS: frozenset[str] = frozenset(
    {
        "VALID FROM",
        "VALIDITY FROM",
        "VALID SINCE",
        "EFFECTIVE",
        "EFFECTIVE FROM",
        "EFFECTIVE DATE",
        "START DATE",
        "VALIDITY START",
        "有效期自",
        "有效期限自",
        "自",
        "生效日期",
        "生效日",
        "有効開始日",
        "発効日",
        "유효시작일",
        "시작일",
        "ใช้ได้ตั้งแต่",
        "มีผลตั้งแต่",
        "HIEU LUC TU",
        "CO HIEU LUC TU",
        "BERLAKU MULAI",
        "BERLAKU DARI",
        "MULAI BERLAKU",
        "SAH DARI",
        "SAH MULAI",
        "BERKUAT KUASA",
        "VALABLE A PARTIR DU",
        "VALIDE A PARTIR DU",
        "A COMPTER DU",
    }
)
# Words that follow the date a permit ends, where Chinese, Japanese and Korean put them after
# it ("2023年12月31日まで有効", "2023年12月31日止", "2023년 12월 31일까지"): read as `PERMIT_ENDS`
# are, for a year-first date only, and only as a whole word (a space or the reference's end
# after it). Not 有效 alone ("2023年12月31日有效" may say from when: `PERMIT_ENDS_AROUND`), nor an
# issue date's word (发证, 発行, 발급).
PERMIT_ENDS_AFTER: frozenset[str] = frozenset(
    {
        "止",
        "为止",
        "為止",
        "到期",
        "截止",
        "まで",
        "迄",
        "まで有効",
        "迄有効",
        "까지",
    }
)
# A word before and one after a date that say together it is the end: "至2023年12月31日有效"
# (valid until). The word before must stand apart from a word it would end: "截至" is "as of".
PERMIT_ENDS_AROUND: tuple[frozenset[str], frozenset[str]] = (
    frozenset({"至"}),
    frozenset({"有效", "有効"}),
)
# Words that follow the date a permit starts ("2026年1月1日起", "2026年1月1日から有効", "2026년
# 1월 1일부터"), read as `PERMIT_ENDS_AFTER` are: a whole word ("2026年1月1日起运" is a shipping
# date), and no second date after it (then the two are a period, `PERMIT_TO`).
PERMIT_STARTS_AFTER: frozenset[str] = frozenset(
    {
        "起",
        "起生效",
        "起有效",
        "生效",
        "から",
        "から有効",
        "より",
        "より有効",
        "発効",
        "부터",
    }
)
# Words that head a period of validity and nothing else ("VALIDITY PERIOD 01/2023-12/2023",
# "VALID 2022-01-01 TO 2023-12-31"): read only before two dates joined by `PERMIT_TO`, where a
# month and year in figures ("12/2023") counts too. Two dates joined so are read without a word
# before them when each reads one way ("2022-01-01 ~ 2023-12-31").
PERMIT_PERIODS: frozenset[str] = frozenset(
    {
        "VALID",
        "VALID PERIOD",
        "VALIDITY PERIOD",
        "PERIOD OF VALIDITY",
        "VALID BETWEEN",
        "BETWEEN",
        "FROM",
        "有效期间",
        "有效期間",
        "有効期間",
        "유효 기간",
        "기간",
        "ระยะเวลา",
        "THOI HAN",
        "THOI HAN HIEU LUC",
        "HIEU LUC",
        "MASA BERLAKU",
        "BERLAKU",
        "TEMPOH SAH",
        "VALABLE DU",
        "VALIDE DU",
        "PERIODE DE VALIDITE",
        "DU",
    }
)
# Words that join the two dates of a period ("2022-01-01 TO 2023-12-31", "2022年1月1日至2023年12
# 月31日", "2022년 1월 1일부터 2023년 12월 31일까지"); a dash, a tilde or a slash between them
# is a space once the reference is read. The second date is the end.
PERMIT_TO: frozenset[str] = frozenset(
    {
        "TO",
        "TILL",
        "UNTIL",
        "THRU",
        "THROUGH",
        "AND",
        "至",
        "到",
        "起",
        "から",
        "より",
        "부터",
        "ถึง",
        "จนถึง",
        "DEN",
        "DEN NGAY",
        "HINGGA",
        "SAMPAI",
        "SAMPAI DENGAN",
        "S D",
        "AU",
        "JUSQU AU",
    }
)
# Month names and their short forms, by month: English, French, Indonesian and Malay (as
# normalised: accents dropped), Thai.
PERMIT_MONTHS: tuple[frozenset[str], ...] = tuple(
    frozenset(names.split())
    for names in (
        "JAN JANUARY JANVIER JANUARI มกราคม",
        "FEB FEBRUARY FEVRIER FEBRUARI กุมภาพันธ์",
        "MAR MARCH MARS MARET MAC มีนาคม",
        "APR APRIL AVRIL เมษายน",
        "MAY MAI MEI พฤษภาคม",
        "JUN JUNE JUIN JUNI มิถุนายน",
        "JUL JULY JUILLET JULI JULAI กรกฎาคม",
        "AUG AUGUST AOUT AGUSTUS OGOS สิงหาคม",
        "SEP SEPT SEPTEMBER SEPTEMBRE กันยายน",
        "OCT OCTOBER OCTOBRE OKTOBER ตุลาคม",
        "NOV NOVEMBER NOVEMBRE พฤศจิกายน",
        "DEC DECEMBER DECEMBRE DESEMBER DISEMBER ธันวาคม",
    )
)

# Consignee text that is not a trader: TO ORDER consignments and logistics companies or banks.
# "TO [THE] ORDER" anywhere ("TO THE ORDER OF ISSUING BANK"), or a text that starts "ORDER OF"
# and names whose order; not a trader whose name holds the word ("NEW ORDER TRADING CO" was taken
# for a TO ORDER consignment and lost its history), nor "ORDER CO LTD", which the party key reads
# as ORDER once its legal form is dropped (the flag and the key read different texts).
# "凭指示" is "to order" on a Chinese bill of lading.
TO_ORDER_PATTERN = r"(^|\s)TO\s+(THE\s+)?ORDER(\s|$)|^ORDER\s+OF\s|凭指示|憑指示"
# The pattern before stop 23 (any word ORDER), kept for a history made with name rules 1: its
# model learned such consignees as no party.
_TO_ORDER_BEFORE = r"(^|\s)(TO\s+(THE\s+)?)?ORDER(\s|$)"


def to_order_pattern(rules: int) -> str:
    """The TO ORDER pattern of a history's name rules (`features.keys.NAME_RULES`)."""
    return TO_ORDER_PATTERN if rules >= 2 else _TO_ORDER_BEFORE


# The English words name rules 1 to 3 read in a consignee, kept for a history keyed by them: its
# model learned them (AGENCY, AGENCIES and BANK anywhere; no NVOCC or WAREHOUSING).
_LOGISTICS_WORDS_BEFORE: frozenset[str] = frozenset(
    {
        "LOGISTICS",
        "LOGISTIC",
        "FREIGHT",
        "FORWARDING",
        "FORWARDER",
        "FORWARDERS",
        "SHIPPING",
        "CARGO",
        "EXPRESS",
        "BANK",
        "AGENCY",
        "AGENCIES",
        "TRANSPORT",
        "CLEARING",
        "CUSTOMS",
    }
)
# Logistics companies, forwarders, carriers and banks as they name themselves, by name rules 4.
# Not AGENCY or AGENCIES alone: "NAIROBI TRADING AGENCIES" is a trader (East African and South
# Asian traders name themselves so), and a shipping, clearing or forwarding agency says so by its
# other word; ship and liner agencies as phrases. Added: NVOCC, warehousing, supply chain,
# couriers, trucking and haulage, consolidators, chartering and stevedoring, container lines,
# banking ("XYZ NVOCC LTD", "ABC WAREHOUSING CO", "DEF SUPPLY CHAIN SOLUTIONS" were traders).
# Not CARRIER (a brand of air conditioners) nor WAREHOUSE alone (a shop's name).
# Nor EXPRESS or CARGO alone: "ASIA EXPRESS TRADING CO", "EXPRESS FOODS LTD" and "CARGO PANTS
# GARMENTS LTD" are traders. Couriers and cargo agents say so by the word's place or company: a
# name that ends in it, legal forms apart (`LOGISTICS_NAME_ENDS`: "DHL EXPRESS", "SF EXPRESS CO
# LTD", "XYZ CARGO LTD"), a courier's name ("DHL EXPRESS (HONG KONG) LTD"), or a phrase ("ABC AIR
# CARGO", "XYZ CARGO SERVICES", "EXPRESS DELIVERY").
LOGISTICS_WORDS: frozenset[str] = (
    _LOGISTICS_WORDS_BEFORE - {"AGENCY", "AGENCIES", "EXPRESS", "CARGO"}
) | frozenset(
    {
        "DHL",
        "FEDEX",
        "ARAMEX",
        "TNT EXPRESS",
        "UPS EXPRESS",
        "SF EXPRESS",
        "YTO EXPRESS",
        "ZTO EXPRESS",
        "STO EXPRESS",
        "YUNDA EXPRESS",
        "EMS EXPRESS",
        "EXPRESS DELIVERY",
        "EXPRESS DELIVERIES",
        "EXPRESS PARCEL",
        "EXPRESS PARCELS",
        "EXPRESS MAIL",
        "EXPRESS SERVICE",
        "EXPRESS SERVICES",
        "EXPRESS LINE",
        "EXPRESS LINES",
        "EXPRESS CARGO",
        "CARGO EXPRESS",
        "AIR CARGO",
        "SEA CARGO",
        "OCEAN CARGO",
        "CARGO SERVICE",
        "CARGO SERVICES",
        "CARGO AGENCY",
        "CARGO AGENCIES",
        "CARGO AGENT",
        "CARGO AGENTS",
        "CARGO MOVERS",
        "CARGO HANDLING",
        "CARGO CARRIERS",
        "CARGO LINE",
        "CARGO LINES",
        "CARGO TERMINAL",
        "CARGO TERMINALS",
        "NVOCC",
        "WAREHOUSING",
        "SUPPLY CHAIN",
        "SUPPLY CHAINS",
        "COURIER",
        "COURIERS",
        "TRUCKING",
        "HAULAGE",
        "3PL",
        "CONSOLIDATOR",
        "CONSOLIDATORS",
        "CHARTERING",
        "STEVEDORING",
        "CONTAINER LINE",
        "CONTAINER LINES",
        "SHIP AGENCY",
        "SHIP AGENCIES",
        "SHIPS AGENCY",
        "LINER AGENCY",
        "LINER AGENCIES",
        "MARITIME AGENCY",
        "MARITIME AGENCIES",
        "BANKING",
    }
)
# The same in the region's languages, read since name rules 3 (a history keyed before reads the
# English words alone, as its model learned): French, Indonesian and Malay, Vietnamese; Chinese,
# Japanese, Korean and Thai (logistics, freight, forwarding, transport, shipping, bank).
_LOGISTICS_WORDS_OF_REGION: frozenset[str] = frozenset(
    {
        "LOGISTIQUE",
        "TRANSITAIRE",
        "TRANSITAIRES",
        "TRANSPORTS",
        "BANQUE",
        "LOGISTIK",
        "EKSPEDISI",
        "PENGANGKUTAN",
        "VAN TAI",
        "GIAO NHAN",
        "NGAN HANG",
        "物流",
        "货运",
        "貨運",
        "货代",
        "貨代",
        "运输",
        "運輸",
        "船务",
        "船務",
        "银行",
        "銀行",
        "運送",
        "通関",
        "물류",
        "해운",
        "은행",
        "โลจิสติกส์",
        "ขนส่ง",
        "ธนาคาร",
    }
)
# Couriers and warehousing in Chinese, Japanese and Korean, read since name rules 5 (stop 30):
# express delivery (快递, 速运 as in 顺丰速运, SF Express, 速递 as in EMS 速递), warehousing (仓储,
# 倉儲; Japanese 倉庫, the warehouse companies 三井倉庫 and 住友倉庫), Nippon Express (日本通運),
# Korean parcel delivery (택배) and its carriers. Korean is read word by word, so a courier written
# in one word with its name ("한진택배") is named whole. Not 海运 or 海運 (shipping): Shanghai
# and a name's 运 run together ("上海运通贸易", a trader), nor 通運 alone ("亨通運動", sports goods).
_LOGISTICS_WORDS_OF_REGION_5: frozenset[str] = frozenset(
    {
        "快递",
        "快遞",
        "速运",
        "速運",
        "速递",
        "速遞",
        "仓储",
        "倉儲",
        "倉庫",
        "日本通運",
        "택배",
        "대한통운",
        "한진택배",
        "로젠택배",
        "우체국택배",
    }
)
LOGISTICS_WORDS_REGION: frozenset[str] = (
    LOGISTICS_WORDS | _LOGISTICS_WORDS_OF_REGION | _LOGISTICS_WORDS_OF_REGION_5
)
# Compounds that hold BANK and name a place, a food or seed bank or a phone charger, read as if
# absent before the words above are looked for (name rules 4): "RIVER BANK AGRO FOODS" was a
# bank as consignee.
LOGISTICS_NOT: frozenset[str] = frozenset(
    {
        "RIVER BANK",
        "RIVERS BANK",
        "WEST BANK",
        "EAST BANK",
        "NORTH BANK",
        "SOUTH BANK",
        "LEFT BANK",
        "RIGHT BANK",
        "SAND BANK",
        "CANAL BANK",
        "CREEK BANK",
        "FOOD BANK",
        "SEED BANK",
        "GENE BANK",
        "BLOOD BANK",
        "DATA BANK",
        "POWER BANK",
        "POWER BANKS",
    }
)


# Banks whose names hold one of those compounds, read as banks by name rules 5: "EAST WEST BANK"
# (a Californian bank) held WEST BANK, and name rules 4 read it as no bank.
LOGISTICS_BANKS: frozenset[str] = frozenset({"EAST WEST BANK"})


# Words that make a consignee a courier or cargo agent as the last word of its name, legal forms
# apart (name rules 4): "DHL EXPRESS", "SF EXPRESS CO LTD", "ABC CARGO LTD", not "EXPRESS FOODS".
LOGISTICS_NAME_ENDS: frozenset[str] = frozenset({"EXPRESS", "CARGO"})


def logistics_lexicon(
    rules: int,
) -> tuple[frozenset[str], frozenset[str], frozenset[str], frozenset[str]]:
    """The words that make a consignee a logistics company or bank by a history's name rules
    (`features.keys.NAME_RULES`), the compounds not counted, the words that count as a name's
    last word only, and the banks' names that hold such a compound: rules 1 and 2 read the
    English words alone, rules 3 the region's words too, rules 4 without the compounds and with
    the name's last words, rules 5 the list as it is now."""
    none: frozenset[str] = frozenset()
    if rules < 3:
        return _LOGISTICS_WORDS_BEFORE, none, none, none
    if rules < 4:
        return _LOGISTICS_WORDS_BEFORE | _LOGISTICS_WORDS_OF_REGION, none, none, none
    if rules < 5:
        words = LOGISTICS_WORDS | _LOGISTICS_WORDS_OF_REGION
        return words, LOGISTICS_NOT, LOGISTICS_NAME_ENDS, none
    return LOGISTICS_WORDS_REGION, LOGISTICS_NOT, LOGISTICS_NAME_ENDS, LOGISTICS_BANKS


# A notify party that only points back at the consignee ("SAME AS CONSIGNEE").
SAME_AS_CONSIGNEE = r"^(SAME( AS)?|AS)( (CONSIGNEE|CNEE|ABOVE))?$"

# Words dropped before description tokens are hashed and encoded.
STOPWORDS: frozenset[str] = frozenset(
    {"OF", "AND", "IN", "THE", "FOR", "WITH", "ON", "TO", "A", "AN", "BY", "NO", "NET", "WT", "KG"}
)
