"""Prior knowledge from the domain notes (../shared/DOMAIN.md) as plain lists.

These lists give the model red flags before it has seen a single seizure. They are deliberately
short and documented; risk that shifts over time is learned from seizure history by
`features.rates`, not added here. Words are matched on description tokens after
`features.text.tokens` (upper case, trailing plural S removed).
"""

from __future__ import annotations

__all__ = [
    "CITES_HEADINGS",
    "CITES_WORDS",
    "COOLED_CHAPTERS",
    "COOLED_HEADINGS",
    "COOLING_WORDS",
    "COVER_LOAD_HEADINGS",
    "COVER_LOAD_WORDS",
    "DEMAND_MARKETS",
    "GENERIC_WORDS",
    "LOGISTICS_WORDS",
    "NOT_COOLED_HEADINGS",
    "RISKY_TRANSIT_COUNTRIES",
    "RISKY_TRANSIT_PORTS",
    "SAME_AS_CONSIGNEE",
    "SOURCE_COUNTRIES",
    "STOPWORDS",
    "PERMIT_PLACEHOLDERS",
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
        "PLASTIC",
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
# words), and words that say nothing about the goods on their own.
VAGUE_PHRASES: tuple[str, ...] = (
    "FAK",
    "F A K",  # F.A.K., its dots made spaces
    "FREIGHT ALL KINDS?",
    "SAID TO CONTAIN",
    "STC",
    "S T C",
    "GENERAL CARGO(ES)?",
    "GENERAL MERCHANDISE",
    "GENERAL GOODS",
    "MIXED GOODS",
    "VARIOUS GOODS",
    "PERSONAL EFFECTS",
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

# CITES-sensitive goods: ivory and horn lines, and words for listed species and products.
CITES_HEADINGS: frozenset[str] = frozenset({"0507"})
CITES_WORDS: frozenset[str] = frozenset(
    {
        "IVORY",
        "HORN",
        "RHINO",
        "PANGOLIN",
        "ROSEWOOD",
        "DALBERGIA",
        "PTEROCARPU",  # Pterocarpus, plural S removed
        "SHARK",
        "FIN",
        "TOTOABA",
        "AGARWOOD",
        "EBONY",
        "TORTOISE",
        "CORAL",
    }
)

# Goods that need a reefer: meat, fish, dairy, plants and flowers, vegetables, fresh fruit,
# prepared meat and fish, ice cream, vaccines; nuts and dried fruit do not.
COOLED_CHAPTERS: frozenset[str] = frozenset({"02", "03", "04", "06", "07", "08", "16"})
COOLED_HEADINGS: frozenset[str] = frozenset({"2105", "3002"})
NOT_COOLED_HEADINGS: frozenset[str] = frozenset({"0801", "0802", "0813", "0601"})
COOLING_WORDS: frozenset[str] = frozenset({"FROZEN", "CHILLED", "FRESH", "REEFER", "REFRIGERATED"})

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
    }
)

# Consignee text that is not a trader: TO ORDER consignments and logistics companies or banks.
# "TO [THE] ORDER" anywhere ("TO THE ORDER OF ISSUING BANK"), or a text that starts "ORDER OF"
# and names whose order; not a trader whose name holds the word ("NEW ORDER TRADING CO" was taken
# for a TO ORDER consignment and lost its history), nor "ORDER CO LTD", which the party key reads
# as ORDER once its legal form is dropped (the flag and the key read different texts).
TO_ORDER_PATTERN = r"(^|\s)TO\s+(THE\s+)?ORDER(\s|$)|^ORDER\s+OF\s"
# The pattern before stop 23 (any word ORDER), kept for a history made with name rules 1: its
# model learned such consignees as no party.
_TO_ORDER_BEFORE = r"(^|\s)(TO\s+(THE\s+)?)?ORDER(\s|$)"


def to_order_pattern(rules: int) -> str:
    """The TO ORDER pattern of a history's name rules (`features.keys.NAME_RULES`)."""
    return TO_ORDER_PATTERN if rules >= 2 else _TO_ORDER_BEFORE


LOGISTICS_WORDS: frozenset[str] = frozenset(
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
# A notify party that only points back at the consignee ("SAME AS CONSIGNEE").
SAME_AS_CONSIGNEE = r"^(SAME( AS)?|AS)( (CONSIGNEE|CNEE|ABOVE))?$"

# Words dropped before description tokens are hashed and encoded.
STOPWORDS: frozenset[str] = frozenset(
    {"OF", "AND", "IN", "THE", "FOR", "WITH", "ON", "TO", "A", "AN", "BY", "NO", "NET", "WT", "KG"}
)
