"""``regional_economy``: quarterly statistics for European regions plus regional companies.

Stored values a question names differently: ISO 3166-2 region codes ('DE-BY' is Bavaria),
regions under their local names ('Bayern', 'Lombardia', 'Wien', 'Cataluña'), country codes
('DE'), currency codes ('EUR', 'PLN'), indicators by numeric ``roworder`` (5 is the GDP growth
rate), periods such as '2023Q1', NACE section letters ('J' is information and communication),
'Y'/'N' and 0/1 flags, and a few company names in capitals.
"""

from __future__ import annotations

import random

from sqlsynth.examples._tables import TableDef, weighted

DB_ID = "regional_economy"
SEED = 20240503

TABLES = (
    TableDef("regions", (
        ("region_code", "TEXT PRIMARY KEY", "ISO 3166-2 subdivision code"),
        ("region_name", "TEXT NOT NULL", "official name in the local language"),
        ("country_code", "TEXT NOT NULL", "ISO 3166-1 alpha-2 country code"),
        ("currency", "TEXT NOT NULL", "ISO 4217 code of the national currency"),
        ("population", "INTEGER NOT NULL", "residents on 1 January 2023"),
        ("area_km2", "REAL NOT NULL", "land area in square kilometres"),
        ("is_capital_region", "TEXT NOT NULL", "Y if the national capital lies in the region"),
    )),
    TableDef("indicators", (
        ("roworder", "INTEGER PRIMARY KEY", "indicator number used in the statistical tables"),
        ("indicator_name", "TEXT NOT NULL", "indicator name"),
        ("unit", "TEXT NOT NULL", "unit of measure"),
    )),
    TableDef("quarterly_reports", (
        ("report_id", "INTEGER PRIMARY KEY", "report row number"),
        ("region_code", "TEXT NOT NULL REFERENCES regions(region_code)", "region"),
        ("roworder", "INTEGER NOT NULL REFERENCES indicators(roworder)", "indicator"),
        ("reportperiod", "TEXT NOT NULL", "year and quarter, e.g. 2023Q1"),
        ("value", "REAL", "indicator value in the indicator's unit"),
        ("is_provisional", "TEXT NOT NULL", "Y while the figure is preliminary"),
    ), ("UNIQUE (region_code, roworder, reportperiod)",)),
    TableDef("sectors", (
        ("sector_code", "TEXT PRIMARY KEY", "NACE Rev. 2 section letter"),
        ("sector_name", "TEXT NOT NULL", "NACE section title"),
    )),
    TableDef("companies", (
        ("company_id", "INTEGER PRIMARY KEY", "company number"),
        ("company_name", "TEXT NOT NULL", "registered name including legal form"),
        ("legal_form", "TEXT NOT NULL", "legal form abbreviation, e.g. GmbH, SA, S.p.A."),
        ("region_code", "TEXT NOT NULL REFERENCES regions(region_code)", "registered seat"),
        ("sector_code", "TEXT NOT NULL REFERENCES sectors(sector_code)", "main activity"),
        ("founded_year", "INTEGER", "year of incorporation"),
        ("is_listed", "INTEGER NOT NULL", "1 if shares trade on a stock exchange"),
    )),
    TableDef("company_financials", (
        ("company_id", "INTEGER NOT NULL REFERENCES companies(company_id)", "company"),
        ("fiscal_year", "INTEGER NOT NULL", "financial year"),
        ("revenue_m", "REAL NOT NULL", "revenue in millions of the reporting currency"),
        ("net_income_m", "REAL NOT NULL", "net income in millions of the reporting currency"),
        ("employees", "INTEGER NOT NULL", "headcount at year end"),
        ("currency", "TEXT NOT NULL", "ISO 4217 reporting currency"),
    ), ("PRIMARY KEY (company_id, fiscal_year)",)),
)

# (code, local name, country, currency, population, area, capital, GDP in million national
# currency for 2020Q1, unemployment rate 2020Q1, average monthly wage)
REGIONS = (
    ("DE-BY", "Bayern", "DE", "EUR", 13_369_000, 70_542.0, "N", 163_000, 3.0, 4_300),
    ("DE-BE", "Berlin", "DE", "EUR", 3_755_000, 891.1, "Y", 39_500, 7.6, 4_100),
    ("DE-NW", "Nordrhein-Westfalen", "DE", "EUR", 18_139_000, 34_112.0, "N", 178_000, 5.1,
     4_000),
    ("FR-IDF", "Île-de-France", "FR", "EUR", 12_395_000, 12_011.0, "Y", 182_000, 7.4, 3_700),
    ("FR-ARA", "Auvergne-Rhône-Alpes", "FR", "EUR", 8_114_000, 69_711.0, "N", 68_000, 6.5,
     2_900),
    ("IT-25", "Lombardia", "IT", "EUR", 9_976_000, 23_864.0, "N", 97_000, 5.6, 2_700),
    ("IT-62", "Lazio", "IT", "EUR", 5_715_000, 17_232.0, "Y", 47_000, 9.3, 2_500),
    ("ES-CT", "Cataluña", "ES", "EUR", 7_901_000, 32_108.0, "N", 60_000, 11.2, 2_300),
    ("ES-MD", "Comunidad de Madrid", "ES", "EUR", 6_871_000, 8_028.0, "Y", 60_500, 10.4,
     2_500),
    ("NL-NH", "Noord-Holland", "NL", "EUR", 2_953_000, 2_671.0, "Y", 46_000, 3.4, 3_900),
    ("AT-9", "Wien", "AT", "EUR", 1_982_000, 414.9, "Y", 24_500, 10.3, 3_500),
    ("PL-14", "Mazowieckie", "PL", "PLN", 5_514_000, 35_559.0, "Y", 150_000, 2.5, 7_400),
    ("CZ-10", "Praha", "CZ", "CZK", 1_357_000, 496.2, "Y", 310_000, 1.4, 49_000),
    ("SE-AB", "Stockholms län", "SE", "SEK", 2_454_000, 6_519.0, "Y", 320_000, 7.0, 44_000),
    ("DK-84", "Region Hovedstaden", "DK", "DKK", 1_873_000, 2_546.0, "Y", 260_000, 5.2,
     48_000),
)

INDICATORS = (
    (1, "Gross domestic product at current prices", "million national currency"),
    (2, "GDP per inhabitant", "national currency"),
    (3, "Gross fixed capital formation", "million national currency"),
    (4, "Final consumption expenditure of households", "million national currency"),
    (5, "Real GDP growth rate", "percent, change on previous quarter"),
    (6, "Unemployment rate (ILO)", "percent of labour force"),
    (7, "Employment", "thousand persons"),
    (8, "Harmonised index of consumer prices", "index, 2015=100"),
    (9, "Inflation rate (HICP)", "percent, change on same quarter of previous year"),
    (10, "Average gross monthly wage", "national currency"),
    (11, "Industrial production index", "index, 2015=100"),
    (12, "Building permits issued", "number of dwellings"),
)

PERIODS = tuple(f"{y}Q{q}" for y in range(2020, 2024) for q in range(1, 5))

# Common shock to real growth per quarter (pandemic dip and rebound), percent.
GROWTH_SHOCK = (
    -3.5, -11.0, 12.5, -0.5, 0.3, 1.8, 2.2, 0.6, 0.5, 0.9, 0.3, -0.3, 0.1, 0.2, 0.1, 0.2,
)
# Common inflation path, percent year on year.
INFLATION = (1.6, 0.4, 0.2, 0.0, 1.4, 2.2, 2.9, 4.6, 6.5, 8.0, 9.3, 9.8, 8.0, 6.2, 4.9, 3.1)

SECTORS = (
    ("A", "Agriculture, forestry and fishing"),
    ("C", "Manufacturing"),
    ("D", "Electricity, gas, steam and air conditioning supply"),
    ("F", "Construction"),
    ("G", "Wholesale and retail trade; repair of motor vehicles and motorcycles"),
    ("H", "Transportation and storage"),
    ("I", "Accommodation and food service activities"),
    ("J", "Information and communication"),
    ("K", "Financial and insurance activities"),
    ("M", "Professional, scientific and technical activities"),
    ("Q", "Human health and social work activities"),
)

LEGAL_FORMS = {
    "DE": ("GmbH", "AG", "GmbH & Co. KG"), "AT": ("GmbH", "AG"), "FR": ("SAS", "SA"),
    "IT": ("S.r.l.", "S.p.A."), "ES": ("S.L.", "S.A."), "NL": ("B.V.", "N.V."),
    "PL": ("sp. z o.o.", "S.A."), "CZ": ("s.r.o.", "a.s."), "SE": ("AB",), "DK": ("ApS", "A/S"),
}
LISTED_FORMS = {"AG", "SA", "S.p.A.", "S.A.", "N.V.", "a.s.", "A/S", "AB"}

NAME_STEMS = (
    "Nordlicht", "Alpen", "Rhein", "Sonnen", "Vista", "Lumière", "Aurora", "Delta", "Kobalt",
    "Meridian", "Orion", "Falken", "Atlas", "Boreal", "Civitas", "Fortis", "Helio", "Isar",
    "Kraft", "Lago", "Marea", "Nova", "Octo", "Pannon", "Quanta", "Rialto", "Silva", "Terra",
    "Ursa", "Vela", "Wolke", "Zenit", "Baltica", "Danubia", "Elbe", "Gaia", "Hansa", "Iberia",
)
SECTOR_WORDS = {
    "A": ("Agrar", "Farms", "Forst"), "C": ("Werke", "Industries", "Technik", "Motors"),
    "D": ("Energie", "Power", "Solar"), "F": ("Bau", "Construct", "Immobilien"),
    "G": ("Handel", "Retail", "Trading"), "H": ("Logistik", "Transport", "Cargo"),
    "I": ("Hotels", "Gastro", "Resorts"), "J": ("Digital", "Software", "Tech", "Media"),
    "K": ("Capital", "Bank", "Versicherung", "Invest"), "M": ("Consulting", "Engineering",
                                                             "Labs"),
    "Q": ("Klinik", "Health", "Care"),
}


def _series(rng: random.Random, region: tuple) -> dict[int, list[float]]:
    """Sixteen quarters of each indicator for one region, internally consistent."""
    _, _, _, _, pop, _, _, gdp0, unemp0, wage0 = region
    labour = pop * 0.5 / 1000
    growth = [round(g + rng.gauss(0.2, 0.35), 1) for g in GROWTH_SHOCK]
    inflation = [round(max(-0.5, i + rng.gauss(0, 0.6)), 1) for i in INFLATION]
    gdp, unemp, hicp, ipi = float(gdp0), unemp0, 108.0 + rng.uniform(-2, 2), 100.0
    out: dict[int, list[float]] = {k: [] for k in range(1, 13)}
    for q in range(len(PERIODS)):
        gdp *= (1 + growth[q] / 100) * (1 + inflation[q] / 400)
        unemp = max(1.0, unemp - growth[q] * 0.12 + rng.gauss(0, 0.15))
        hicp *= 1 + inflation[q] / 400
        ipi = max(60.0, ipi * (1 + (growth[q] * 1.4 + rng.gauss(0, 1.0)) / 100))
        employed = labour * (1 - unemp / 100)
        out[1].append(round(gdp, 1))
        out[2].append(round(gdp * 1e6 / pop, 0))
        out[3].append(round(gdp * rng.uniform(0.19, 0.24), 1))
        out[4].append(round(gdp * rng.uniform(0.49, 0.55), 1))
        out[5].append(growth[q])
        out[6].append(round(unemp, 1))
        out[7].append(round(employed, 1))
        out[8].append(round(hicp, 1))
        out[9].append(inflation[q])
        out[10].append(round(wage0 * (1.008 ** q) * (hicp / 108.0) ** 0.6, 0))
        out[11].append(round(ipi, 1))
        out[12].append(float(int(pop / 900 * rng.uniform(0.7, 1.3) * (0.6 if q == 1 else 1))))
    return out


def build_rows() -> dict[str, list[tuple]]:
    """All rows of the database, drawn from one fixed seed."""
    rng = random.Random(SEED)
    rows: dict[str, list[tuple]] = {
        "regions": [r[:7] for r in REGIONS],
        "indicators": list(INDICATORS),
        "sectors": list(SECTORS),
    }
    reports = []
    for region in REGIONS:
        series = _series(rng, region)
        for roworder in range(1, 13):
            for q, period in enumerate(PERIODS):
                value: float | None = series[roworder][q]
                if roworder in (3, 12) and rng.random() < 0.03:
                    value = None
                provisional = "Y" if q >= len(PERIODS) - 2 else "N"
                reports.append((len(reports) + 1, region[0], roworder, period, value,
                                provisional))
    rows["quarterly_reports"] = reports

    companies, financials = [], []
    used: set[str] = set()
    region_weights = [(r, r[4] ** 0.5) for r in REGIONS]
    sector_weights = (("A", 3), ("C", 16), ("D", 5), ("F", 8), ("G", 14), ("H", 7), ("I", 7),
                      ("J", 14), ("K", 9), ("M", 11), ("Q", 6))
    while len(companies) < 320:
        region = weighted(rng, region_weights)
        sector = weighted(rng, sector_weights)
        form = rng.choice(LEGAL_FORMS[region[2]])
        name = f"{rng.choice(NAME_STEMS)} {rng.choice(SECTOR_WORDS[sector])} {form}"
        if name in used:
            continue
        used.add(name)
        cid = len(companies) + 1
        if cid % 23 == 0:
            name = name.upper()
        listed = 1 if form in LISTED_FORMS and rng.random() < 0.45 else 0
        founded = rng.randint(1950, 2017) if rng.random() < 0.9 else rng.randint(1850, 1949)
        companies.append((cid, name, form, region[0], sector, founded, listed))
        fx = {"EUR": 1, "PLN": 4.4, "CZK": 24.5, "SEK": 11.0, "DKK": 7.45}[region[3]]
        revenue = rng.lognormvariate(3.6 if listed else 2.3, 1.0) * fx
        staff = max(3, int(revenue / fx * rng.uniform(3, 9)))
        for year in range(2019, 2024):
            shock = -0.12 if year == 2020 else rng.gauss(0.05, 0.07)
            revenue = max(0.1, revenue * (1 + shock))
            margin = rng.gauss(0.06, 0.07)
            staff = max(3, int(staff * (1 + shock * 0.5 + rng.gauss(0, 0.03))))
            financials.append((cid, year, round(revenue, 2), round(revenue * margin, 2), staff,
                               region[3]))
    rows["companies"], rows["company_financials"] = companies, financials
    return rows
