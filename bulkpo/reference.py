"""Reference data cells are checked against: countries, currencies, Excel words and errors."""

from __future__ import annotations

import datetime as dt
import re

COUNTRIES: dict[str, str] = dict(
    line.split(" ", 1)
    for line in """\
AD Andorra|AE United Arab Emirates|AF Afghanistan|AG Antigua and Barbuda|AI Anguilla|AL Albania
AM Armenia|AO Angola|AQ Antarctica|AR Argentina|AS American Samoa|AT Austria|AU Australia
AW Aruba|AX Aland Islands|AZ Azerbaijan|BA Bosnia and Herzegovina|BB Barbados|BD Bangladesh
BE Belgium|BF Burkina Faso|BG Bulgaria|BH Bahrain|BI Burundi|BJ Benin|BL Saint Barthelemy
BM Bermuda|BN Brunei Darussalam|BO Bolivia|BQ Bonaire, Sint Eustatius and Saba|BR Brazil
BS Bahamas|BT Bhutan|BV Bouvet Island|BW Botswana|BY Belarus|BZ Belize|CA Canada
CC Cocos (Keeling) Islands|CD Congo, Democratic Republic|CF Central African Republic
CG Congo|CH Switzerland|CI Cote d'Ivoire|CK Cook Islands|CL Chile|CM Cameroon|CN China
CO Colombia|CR Costa Rica|CU Cuba|CV Cabo Verde|CW Curacao|CX Christmas Island|CY Cyprus
CZ Czechia|DE Germany|DJ Djibouti|DK Denmark|DM Dominica|DO Dominican Republic|DZ Algeria
EC Ecuador|EE Estonia|EG Egypt|EH Western Sahara|ER Eritrea|ES Spain|ET Ethiopia|FI Finland
FJ Fiji|FK Falkland Islands|FM Micronesia|FO Faroe Islands|FR France|GA Gabon
GB United Kingdom|GD Grenada|GE Georgia|GF French Guiana|GG Guernsey|GH Ghana|GI Gibraltar
GL Greenland|GM Gambia|GN Guinea|GP Guadeloupe|GQ Equatorial Guinea|GR Greece
GS South Georgia and the South Sandwich Islands|GT Guatemala|GU Guam|GW Guinea-Bissau
GY Guyana|HK Hong Kong|HM Heard Island and McDonald Islands|HN Honduras|HR Croatia|HT Haiti
HU Hungary|ID Indonesia|IE Ireland|IL Israel|IM Isle of Man|IN India
IO British Indian Ocean Territory|IQ Iraq|IR Iran|IS Iceland|IT Italy|JE Jersey|JM Jamaica
JO Jordan|JP Japan|KE Kenya|KG Kyrgyzstan|KH Cambodia|KI Kiribati|KM Comoros
KN Saint Kitts and Nevis|KP North Korea|KR South Korea|KW Kuwait|KY Cayman Islands
KZ Kazakhstan|LA Laos|LB Lebanon|LC Saint Lucia|LI Liechtenstein|LK Sri Lanka|LR Liberia
LS Lesotho|LT Lithuania|LU Luxembourg|LV Latvia|LY Libya|MA Morocco|MC Monaco|MD Moldova
ME Montenegro|MF Saint Martin (French part)|MG Madagascar|MH Marshall Islands
MK North Macedonia|ML Mali|MM Myanmar|MN Mongolia|MO Macao|MP Northern Mariana Islands
MQ Martinique|MR Mauritania|MS Montserrat|MT Malta|MU Mauritius|MV Maldives|MW Malawi
MX Mexico|MY Malaysia|MZ Mozambique|NA Namibia|NC New Caledonia|NE Niger|NF Norfolk Island
NG Nigeria|NI Nicaragua|NL Netherlands|NO Norway|NP Nepal|NR Nauru|NU Niue|NZ New Zealand
OM Oman|PA Panama|PE Peru|PF French Polynesia|PG Papua New Guinea|PH Philippines|PK Pakistan
PL Poland|PM Saint Pierre and Miquelon|PN Pitcairn|PR Puerto Rico|PS Palestine|PT Portugal
PW Palau|PY Paraguay|QA Qatar|RE Reunion|RO Romania|RS Serbia|RU Russia|RW Rwanda
SA Saudi Arabia|SB Solomon Islands|SC Seychelles|SD Sudan|SE Sweden|SG Singapore
SH Saint Helena, Ascension and Tristan da Cunha|SI Slovenia|SJ Svalbard and Jan Mayen
SK Slovakia|SL Sierra Leone|SM San Marino|SN Senegal|SO Somalia|SR Suriname|SS South Sudan
ST Sao Tome and Principe|SV El Salvador|SX Sint Maarten (Dutch part)|SY Syria|SZ Eswatini
TC Turks and Caicos Islands|TD Chad|TF French Southern Territories|TG Togo|TH Thailand
TJ Tajikistan|TK Tokelau|TL Timor-Leste|TM Turkmenistan|TN Tunisia|TO Tonga|TR Turkey
TT Trinidad and Tobago|TV Tuvalu|TW Taiwan|TZ Tanzania|UA Ukraine|UG Uganda
UM United States Minor Outlying Islands|US United States|UY Uruguay|UZ Uzbekistan
VA Holy See|VC Saint Vincent and the Grenadines|VE Venezuela|VG Virgin Islands (British)
VI Virgin Islands (U.S.)|VN Viet Nam|VU Vanuatu|WF Wallis and Futuna|WS Samoa|XK Kosovo
YE Yemen|YT Mayotte|ZA South Africa|ZM Zambia|ZW Zimbabwe""".replace("\n", "|").split("|")
)
"""ISO 3166-1 alpha-2 codes (and XK, Kosovo, which Flexport and most carriers use)."""

# Codes people write that are not ISO 3166 alpha-2, and what they mean.
COUNTRY_ALIASES = {"UK": "GB", "EL": "GR", "USA": "US", "PRC": "CN", "UAE": "AE"}

CURRENCIES: frozenset[str] = frozenset(re.findall(r"[A-Z]{3}", """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BOV BRL BSD
    BTN BWP BYN BZD CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUC CUP CVE CZK DJF DKK DOP DZD
    EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR
    ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD
    MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR
    PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD SSP STN SVC SYP SZL
    THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD USN UYI UYU UYW UZS VED VES VND VUV WST XAF
    XCD XOF XPF YER ZAR ZMW ZWL"""))
"""ISO 4217 currency codes in use."""

CURRENCY_ALIASES = {
    "RMB": "CNY", "US$": "USD", "$": "USD", "€": "EUR", "£": "GBP", "¥": "CNY or JPY",
    "NTD": "TWD", "YEN": "JPY", "EURO": "EUR", "EUROS": "EUR", "DOLLAR": "USD",
}

EXCEL_ERRORS = frozenset(
    {"#N/A", "#VALUE!", "#REF!", "#DIV/0!", "#NUM!", "#NAME?", "#NULL!", "#SPILL!", "#CALC!",
     "#GETTING_DATA"}
)
EXCEL_EPOCH = dt.date(1899, 12, 30)
TRUE_WORDS = frozenset({"yes", "y", "true", "1", "x", "t", "ja", "oui", "si", "sí"})
FALSE_WORDS = frozenset({"no", "n", "false", "0", "f", "nein", "non"})
MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)

COUNTRIES_ISO3: dict[str, str] = dict(
    pair.split(" ")
    for pair in """\
AND AD|ARE AE|AFG AF|ATG AG|AIA AI|ALB AL|ARM AM|AGO AO|ATA AQ|ARG AR|ASM AS|AUT AT|AUS AU
ABW AW|ALA AX|AZE AZ|BIH BA|BRB BB|BGD BD|BEL BE|BFA BF|BGR BG|BHR BH|BDI BI|BEN BJ|BLM BL
BMU BM|BRN BN|BOL BO|BES BQ|BRA BR|BHS BS|BTN BT|BVT BV|BWA BW|BLR BY|BLZ BZ|CAN CA|CCK CC
COD CD|CAF CF|COG CG|CHE CH|CIV CI|COK CK|CHL CL|CMR CM|CHN CN|COL CO|CRI CR|CUB CU|CPV CV
CUW CW|CXR CX|CYP CY|CZE CZ|DEU DE|DJI DJ|DNK DK|DMA DM|DOM DO|DZA DZ|ECU EC|EST EE|EGY EG
ESH EH|ERI ER|ESP ES|ETH ET|FIN FI|FJI FJ|FLK FK|FSM FM|FRO FO|FRA FR|GAB GA|GBR GB|GRD GD
GEO GE|GUF GF|GGY GG|GHA GH|GIB GI|GRL GL|GMB GM|GIN GN|GLP GP|GNQ GQ|GRC GR|SGS GS|GTM GT
GUM GU|GNB GW|GUY GY|HKG HK|HMD HM|HND HN|HRV HR|HTI HT|HUN HU|IDN ID|IRL IE|ISR IL|IMN IM
IND IN|IOT IO|IRQ IQ|IRN IR|ISL IS|ITA IT|JEY JE|JAM JM|JOR JO|JPN JP|KEN KE|KGZ KG|KHM KH
KIR KI|COM KM|KNA KN|PRK KP|KOR KR|KWT KW|CYM KY|KAZ KZ|LAO LA|LBN LB|LCA LC|LIE LI|LKA LK
LBR LR|LSO LS|LTU LT|LUX LU|LVA LV|LBY LY|MAR MA|MCO MC|MDA MD|MNE ME|MAF MF|MDG MG|MHL MH
MKD MK|MLI ML|MMR MM|MNG MN|MAC MO|MNP MP|MTQ MQ|MRT MR|MSR MS|MLT MT|MUS MU|MDV MV|MWI MW
MEX MX|MYS MY|MOZ MZ|NAM NA|NCL NC|NER NE|NFK NF|NGA NG|NIC NI|NLD NL|NOR NO|NPL NP|NRU NR
NIU NU|NZL NZ|OMN OM|PAN PA|PER PE|PYF PF|PNG PG|PHL PH|PAK PK|POL PL|SPM PM|PCN PN|PRI PR
PSE PS|PRT PT|PLW PW|PRY PY|QAT QA|REU RE|ROU RO|SRB RS|RUS RU|RWA RW|SAU SA|SLB SB|SYC SC
SDN SD|SWE SE|SGP SG|SHN SH|SVN SI|SJM SJ|SVK SK|SLE SL|SMR SM|SEN SN|SOM SO|SUR SR|SSD SS
STP ST|SLV SV|SXM SX|SYR SY|SWZ SZ|TCA TC|TCD TD|ATF TF|TGO TG|THA TH|TJK TJ|TKL TK|TLS TL
TKM TM|TUN TN|TON TO|TUR TR|TTO TT|TUV TV|TWN TW|TZA TZ|UKR UA|UGA UG|UMI UM|USA US|URY UY
UZB UZ|VAT VA|VCT VC|VEN VE|VGB VG|VIR VI|VNM VN|VUT VU|WLF WF|WSM WS|XKX XK|YEM YE|MYT YT
ZAF ZA|ZMB ZM|ZWE ZW""".replace("\n", "|").split("|")
)
"""ISO 3166-1 alpha-3 -> alpha-2 (SAP, D365 and customs extracts write the three letters)."""

# Country names as exports write them that differ from COUNTRIES' own, folded (see fold_word).
COUNTRY_NAMES_EXTRA = {
    "unitedstatesofamerica": "US", "peoplesrepublicofchina": "CN", "chinamainland": "CN",
    "mainlandchina": "CN", "greatbritain": "GB", "england": "GB", "korea": "KR",
    "republicofkorea": "KR", "southkorea": "KR", "vietnam": "VN", "taiwanprovinceofchina": "TW",
    "hongkongsar": "HK", "hongkongsarchina": "HK", "czechrepublic": "CZ", "holland": "NL",
    "thenetherlands": "NL", "russianfederation": "RU", "turkiye": "TR", "macau": "MO",
    "ivorycoast": "CI", "deutschland": "DE", "espana": "ES", "italia": "IT",
}


def fold_word(text: str) -> str:
    """``"F.O.B."`` -> ``fob``, ``"Ocean Freight"`` -> ``oceanfreight``: how value words match."""
    return re.sub(r"[^a-z0-9]+", "", text.lower())


# Words ERPs write for a column's values, folded, each with what it means (the first of
# the meanings the column allows wins: "road" is truck for POs, trucking for bookings).
VALUE_WORDS: dict[str, dict[str, tuple[str, ...]]] = {
    "unit_of_measure": {
        **dict.fromkeys(
            ("ea", "each", "pc", "pce", "pcs", "piece", "pieces", "unit", "units", "st", "stk",
             "stck", "stuck", "stueck", "pcs1", "unidad", "unidades"), ("PCS",)),
        **dict.fromkeys(("nos", "nr", "nbr", "number", "numbers"), ("NO",)),
        **dict.fromkeys(("carton", "cartons", "ctn", "ctns", "ct", "car"), ("CTN",)),
        **dict.fromkeys(("pair", "pairs", "pr", "paa", "prs"), ("PRS",)),
        **dict.fromkeys(("dozen", "dozens", "dz", "dzn", "doz", "dpc"), ("DPC",)),
        **dict.fromkeys(("pack", "packs", "pk", "pac"), ("PK",)),
        **dict.fromkeys(("kgs", "kilo", "kilos", "kilogram", "kilograms", "kgm"), ("KG",)),
        **dict.fromkeys(("gram", "grams", "grm", "gm"), ("G",)),
        **dict.fromkeys(("meter", "meters", "metre", "metres", "mtr", "mtrs"), ("M",)),
        **dict.fromkeys(("sqm", "m²", "mtk", "squaremeter", "squaremetre"), ("M2",)),
        **dict.fromkeys(("cbm", "m³", "mtq", "cubicmeter", "cubicmetre"), ("M3",)),
        **dict.fromkeys(("ltr", "liter", "liters", "litre", "litres", "ltrs"), ("L",)),
    },
    "status": {
        **dict.fromkeys(
            ("open", "confirmed", "approved", "released", "purchaseorder", "openorder",
             "toreceiveandbill", "toreceive", "pendingreceipt", "partiallyreceived",
             "inprogress", "issued", "sent"), ("open",)),
        **dict.fromkeys(
            ("closed", "done", "locked", "completed", "complete", "fullyreceived",
             "fullybilled", "received", "invoiced", "delivered"), ("closed",)),
        **dict.fromkeys(("canceled", "cancelled", "cancel", "void", "voided"), ("cancelled",)),
    },
    "priority": {
        **dict.fromkeys(("normal", "regular", "low", "routine", "std"), ("standard",)),
        **dict.fromkeys(("urgent", "rush", "expedite", "expedited", "express", "hi"),
                        ("high",)),
    },
    "order_class": {
        **dict.fromkeys(("po", "purchase", "purchaseorder", "standardpo"), ("purchase_order",)),
    },
    "transportation_mode": {
        **dict.fromkeys(
            ("sea", "ocean", "oceanfreight", "seafreight", "vessel", "ship", "fcl", "lcl",
             "oceanfcl", "oceanlcl", "seafcl", "sealcl", "maritime", "byship", "bysea"),
            ("ocean",)),
        **dict.fromkeys(("air", "airfreight", "aircargo", "byair", "airplane", "plane",
                         "aircharter", "charterflight"), ("air",)),
        **dict.fromkeys(
            ("road", "truck", "trucking", "roadfreight", "lorry", "ftl", "ltl", "byroad",
             "bytruck", "overland"), ("truck", "trucking")),
        **dict.fromkeys(("rail", "railfreight", "train", "railway", "byrail"), ("rail",)),
    },
}

# Words with no one Flexport meaning, folded: what each is and what it could be. They stay
# errors, but the error asks the question a person would (a mapping's [values.<column>]
# table answers it), instead of listing every allowed value.
VALUE_QUESTIONS: dict[str, dict[str, tuple[str, str, str]]] = {
    # A case or a box holds an unstated number of pieces and is no Flexport unit: carton and
    # pack are both fair readings, and a wrong unit miscounts the quantity.
    "unit_of_measure": {
        **dict.fromkeys(("cs", "case", "cases", "cse"),
                        ("a case", "is it CTN (carton) or PK (pack)?", "CTN")),
        **dict.fromkeys(("box", "boxes", "bx", "bxs"),
                        ("a box", "is it CTN (carton) or PK (pack)?", "CTN")),
    },
    # Not yet a confirmed purchase order: sending it as open tells Flexport goods are on order.
    "status": {
        **dict.fromkeys(
            ("draft", "toapprove", "pendingapproval", "pendingsupervisorapproval",
             "awaitingapproval", "pendingreview", "notapproved"),
            ("not yet an approved purchase order",
             "is it open (the supplier has the order), or not to be imported yet?", "open")),
        **dict.fromkeys(
            ("rfq", "rfqsent", "requestforquotation", "quotation", "quote", "purchasequote"),
            ("a request for quotation, not a purchase order",
             "is it open (ordered after all), or not to be imported?", "open")),
    },
}
"""Per column, folded word -> (what it is, the question, an example answer)."""

NO_INCOTERM = re.compile(r"(?:n/?a|none|not applicable)(?:\W.*)?", re.IGNORECASE)
"""An Incoterm cell that says there is none (USAID SCMS writes ``N/A - From RDC``)."""

INCOTERM_NAMES = {
    "exworks": "EXW", "freecarrier": "FCA", "freealongsideship": "FAS", "freeonboard": "FOB",
    "costandfreight": "CFR", "costfreight": "CFR", "cnf": "CFR", "cf": "CFR",
    "costinsuranceandfreight": "CIF", "costinsurancefreight": "CIF",
    "carriagepaidto": "CPT", "carriageandinsurancepaidto": "CIP",
    "carriageinsurancepaidto": "CIP", "deliveredatterminal": "DAT", "deliveredatplace": "DAP",
    "deliveredatplaceunloaded": "DPU", "delivereddutypaid": "DDP",
}
"""Incoterm names, folded, -> their code (C&F and CNF are CFR)."""

HISTORICAL_INCOTERMS = {"DDU": "DAP", "DELIVEREDDUTYUNPAID": "DAP", "DAF": "DAP", "DES": "DAP",
                        "DEQ": "DAT"}
"""Incoterms 2000 terms the 2010 rules replaced, and the term that replaced each."""
