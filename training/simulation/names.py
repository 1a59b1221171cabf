"""Made-up but plausible names and addresses of trading parties, forwarders and vessels.

Names follow the legal-form and language conventions of each country so that an analyst reading a
manifest line is not distracted; none is meant to be a real company.
"""

from __future__ import annotations

import numpy as np

__all__ = ["NameMaker"]

_STEMS = {
    "vn": "HOANG MINH PHAT THANH AN PHU HUNG LONG VIET NAM SAO MAI DAI TIN HOA BINH QUANG TAN "
    "KHANG THINH DUC TRUNG NGOC LAM GIA HAI".split(),
    "cn": "XIN HUA JIN LONG TAI HENG SHENG FU DA KANG YUAN FENG HONG RUI TIAN HAI MING CHANG "
    "BAO XING HUI JIA SHUN DE".split(),
    "th": "SIAM THAI CHAROEN KASEM SUKHUM PATTANA RUNG ROJ SOMBOON WATTANA NAKORN CHAI "
    "PRASERT SRI MONGKOL".split(),
    "en": "GOLDEN ATLANTIC EMERALD UNITY CROWN SUMMIT ROYAL BRIGHT GREENFIELD OCEANIC PRIME "
    "GLOBAL HARVEST EVEREST ZENITH PIONEER HERITAGE LIBERTY SUNRISE DIAMOND NOBLE TRIUMPH".split(),
    "af": "ADEBAYO OKAFOR CHUKWU BABATUNDE EMEKA KWAME MENSAH OTIENO KAMAU MWANGI JUMA BAKARI "
    "NDLOVU MACHEL TEMBO OSEI ABENA IFEOMA OLU NNAMDI".split(),
    "fr": "SOCOTRA IVOIRE SAHEL ATLANTIQUE HORIZON BOIS AFRIQUE ETOILE LAGUNE MONT SAVANE "
    "CONGO OGOOUE KOUILOU SANAGA BENGUE".split(),
    "es": "ANDINA PACIFICO CORDILLERA SOL VERDE DORADO COSTA ORO AURORA CONDOR NOVA ESTRELLA "
    "SIERRA VALLE PUERTO".split(),
    "pt": "PAULISTA ATLANTICO BRASIL SUL NORTE TROPICAL AURORA VITORIA ALIANCA SERRA BOA "
    "ESPERANCA ZAMBEZE LIMPOPO".split(),
    "de": "NORD HANSA RHEIN ELBE ALPEN WESTFALEN STERN KRONE ADLER LINDEN BERG".split(),
    "in": "SHREE GANESH LAKSHMI BHARAT SAGAR KRISHNA MAHAVIR SIDDHI AMBIKA SURYA PARAS "
    "RELIANT JYOTI".split(),
    "ar": "NOOR FAJR BARAKA KHALEEJ SAHARA WAHA NAJM HILAL DANA RAYAN ZAHRA AMAL".split(),
    "jk": "NIPPON TOYO KOREA HANIL DAEHAN SEIWA TAKARA HANSUNG SAMWOO KYOWA FORMOSA TAIPO".split(),
    "my": "MUTIARA SINAR CAHAYA PERMATA JAYA MAKMUR SEJAHTERA BERKAT INDAH SURYA BUMI".split(),
}
_STYLE = {
    "VN": ("vn", ("CONG TY TNHH {a} {b}", "{a} {b} TRADING JSC", "{a}{b} IMPORT EXPORT CO., LTD")),
    "CN": ("cn", ("{city} {a}{b} IMP. & EXP. CO., LTD", "{a}{b} INTERNATIONAL TRADE CO., LTD")),
    "HK": ("cn", ("{a}{b} (HK) LIMITED", "{a} {b} TRADING LIMITED", "{a}{b} HOLDINGS LIMITED")),
    "TH": ("th", ("{a} {b} CO., LTD.", "{a}{b} INTERTRADE CO., LTD.")),
    "PH": ("es", ("{a} {b} CORPORATION", "{a} {b} TRADING INC.")),
    "KH": ("my", ("{a} {b} CO., LTD", "{a} {b} IMPORT EXPORT CO., LTD")),
    "SG": ("en", ("{a} {b} PTE LTD", "{a} {b} RESOURCES PTE LTD")),
    "MY": ("my", ("{a} {b} SDN BHD", "SYARIKAT {a} {b} SDN BHD")),
    "ID": ("my", ("PT {a} {b}", "PT {a} {b} INDONESIA")),
    "MM": ("en", ("{a} {b} CO., LTD",)),
    "JP": ("jk", ("{a} {b} CORPORATION", "{a} {b} CO., LTD.")),
    "KR": ("jk", ("{a} {b} CO., LTD", "{a} {b} CORPORATION")),
    "TW": ("jk", ("{a} {b} CO., LTD", "{a} {b} ENTERPRISE CO., LTD")),
    "IN": ("in", ("{a} {b} EXPORTS PVT LTD", "{a} {b} OVERSEAS PVT LTD", "{a} {b} INDUSTRIES")),
    "PK": ("in", ("{a} {b} TRADERS", "{a} {b} (PVT) LTD")),
    "BD": ("in", ("{a} {b} LIMITED", "{a} {b} KNIT COMPOSITE LTD")),
    "LK": ("in", ("{a} {b} (PVT) LTD", "{a} {b} EXPORTS (PVT) LTD")),
    "AE": ("ar", ("AL {a} {b} GENERAL TRADING LLC", "{a} {b} FZE")),
    "OM": ("ar", ("{a} {b} TRADING LLC",)),
    "SA": ("ar", ("{a} {b} TRADING COMPANY", "{a} {b} EST.")),
    "EG": ("ar", ("{a} {b} FOR EXPORT", "{a} {b} TRADING CO.")),
    "DE": ("de", ("{a}{b} GMBH", "{a} {b} HANDELS GMBH")),
    "NL": ("en", ("{a} {b} B.V.", "{a} {b} TRADING B.V.")),
    "BE": ("en", ("{a} {b} NV", "{a} {b} BVBA")),
    "GB": ("en", ("{a} {b} LTD", "{a} {b} (UK) LIMITED")),
    "FR": ("fr", ("{a} {b} SAS", "SOCIETE {a} {b}")),
    "ES": ("es", ("{a} {b} S.L.", "{a} {b} S.A.")),
    "IT": ("es", ("{a} {b} S.R.L.", "{a} {b} S.P.A.")),
    "PT": ("pt", ("{a} {b} LDA", "{a} {b} S.A.")),
    "TR": ("ar", ("{a} {b} DIS TICARET A.S.",)),
    "BR": ("pt", ("{a} {b} LTDA", "COMERCIAL {a} {b} S.A.", "{a} {b} EXPORTADORA LTDA")),
    "MZ": ("pt", ("{a} {b} LDA", "{a} {b} COMERCIAL LDA")),
    "AO": ("pt", ("{a} {b} LDA",)),
    "GW": ("pt", ("{a} {b} LDA",)),
}
_SPANISH = ("es", ("{a} {b} S.A.S.", "EXPORTADORA {a} S.A.", "C.I. {a} {b} S.A."))
_FRENCH = ("fr", ("{a} {b} SARL", "SOCIETE {a} {b} SA", "ETS {a} ET FILS"))
_ENGLISH_AFRICA = (
    "af",
    ("{a} {b} LIMITED", "{a} {b} ENTERPRISES LTD", "{a} {b} GLOBAL RESOURCES LTD"),
)
for _cc in ("CO", "EC", "PE", "CL", "AR", "UY", "CR", "VE", "MX", "PA", "GY"):
    _STYLE[_cc] = _SPANISH
for _cc in ("CI", "CM", "CG", "CD", "GA", "TG", "BJ", "SN", "GN", "MG", "DJ", "MU"):
    _STYLE[_cc] = _FRENCH
for _cc in ("NG", "GH", "KE", "TZ", "ZA", "NA"):
    _STYLE[_cc] = _ENGLISH_AFRICA
_STREETS = "MAIN HARBOUR MARKET INDUSTRIAL STATION RIVER PALM CENTRAL CANAL GARDEN".split()
_STREET_KIND = ("STREET", "ROAD", "AVENUE", "BOULEVARD", "LANE")
_VESSEL_A = "PACIFIC ORIENT NORTHERN SOUTHERN GOLDEN SILVER JADE CORAL EASTERN WESTERN BLUE GRAND "
_VESSEL_A += "OCEAN STAR ROYAL SPIRIT"
_VESSEL_B = "HARMONY PIONEER TRADER GLORY VOYAGER PROGRESS FORTUNE PRIDE HORIZON SPLENDOR CROWN "
_VESSEL_B += "DISCOVERY HARVEST ENDEAVOUR PHOENIX VISTA"


class NameMaker:
    """Unique names drawn from a seeded generator."""

    def __init__(self, rng: np.random.Generator) -> None:
        self._rng = rng
        self._used: set[str] = set()

    def _pick(self, items: tuple[str, ...] | list[str]) -> str:
        return items[int(self._rng.integers(len(items)))]

    def _pair(self, stems: list[str]) -> tuple[str, str]:
        """Two different stems."""
        i = int(self._rng.integers(len(stems)))
        j = (i + 1 + int(self._rng.integers(len(stems) - 1))) % len(stems)
        return stems[i], stems[j]

    def _unique(self, name: str) -> str:
        candidate = name
        k = 2
        while candidate in self._used:
            candidate = f"{name} {k}"
            k += 1
        self._used.add(candidate)
        return candidate

    def company(self, country: str, city: str, trade_word: str = "") -> str:
        """A company name in the style of ``country``; ``trade_word`` such as AGRO or TIMBER."""
        group, templates = _STYLE.get(country, ("en", ("{a} {b} CO., LTD",)))
        stems = _STEMS[group]
        a, b = self._pair(stems)
        if trade_word and self._rng.random() < 0.5:
            b = trade_word
        text = self._pick(templates).format(a=a, b=b, city=city.upper())
        return self._unique(" ".join(text.split()))

    def forwarder(self, country: str) -> str:
        stems = _STEMS[_STYLE.get(country, ("en", ()))[0]]
        kind = self._pick(("LOGISTICS", "SHIPPING", "FREIGHT", "GLOBAL LOGISTICS", "FORWARDING"))
        form = self._pick(("CO., LTD", "LIMITED", "LLC", "PTE LTD", "SERVICES"))
        a, b = self._pair(stems)
        return self._unique(f"{a} {b} {kind} {form}")

    def address(self, city: str, country_name: str, po_box: bool) -> str:
        if po_box:
            return f"P.O. BOX {int(self._rng.integers(100, 99999))}, {city.upper()}, {country_name}"
        number = int(self._rng.integers(1, 400))
        street = f"{self._pick(_STREETS)} {self._pick(_STREET_KIND)}"
        return f"{number} {street}, {city.upper()}, {country_name}"

    def vessel(self) -> str:
        name = f"{self._pick(_VESSEL_A.split())} {self._pick(_VESSEL_B.split())}"
        return self._unique(name)
