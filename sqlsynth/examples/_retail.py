"""``retail_orders``: a US multi-channel retailer with stores, catalogue, customers and orders.

Stored values deliberately differ from how people ask for them: state codes ('CA'), one-letter
genders, three-letter order statuses ('SHP'), payment codes ('CC'), loyalty tiers ('GLD'),
'Y'/'N' flags, a category called 'Footwear' rather than shoes, and city names as a legacy
import left them ('NEW YORK', 'san jose', 'St. Louis', 'Winston-Salem').
"""

from __future__ import annotations

import datetime as dt
import random

from sqlsynth.examples._tables import (
    FIRST_NAMES_F,
    FIRST_NAMES_M,
    LAST_NAMES,
    TableDef,
    random_date,
    weighted,
)

DB_ID = "retail_orders"
SEED = 20240501

TABLES = (
    TableDef("regions", (
        ("region_id", "INTEGER PRIMARY KEY", "sales region number"),
        ("region_code", "TEXT NOT NULL UNIQUE", "short region code: W, MW, NE, S, SW"),
        ("region_name", "TEXT NOT NULL", "region name used in management reports"),
        ("manager_name", "TEXT", "regional sales manager"),
    )),
    TableDef("stores", (
        ("store_id", "INTEGER PRIMARY KEY", "store number"),
        ("store_name", "TEXT NOT NULL", "store name shown on receipts"),
        ("city", "TEXT NOT NULL", "city as entered by the store opening team"),
        ("state", "TEXT NOT NULL", "two-letter US state code"),
        ("region_id", "INTEGER NOT NULL REFERENCES regions(region_id)", "sales region"),
        ("opened_on", "TEXT NOT NULL", "opening date, YYYY-MM-DD"),
        ("is_flagship", "TEXT NOT NULL", "Y if the store is a flagship store, else N"),
        ("floor_area_sqft", "INTEGER", "sales floor area in square feet"),
    )),
    TableDef("categories", (
        ("category_id", "INTEGER PRIMARY KEY", "category number"),
        ("category_name", "TEXT NOT NULL UNIQUE", "merchandising category"),
        ("department", "TEXT NOT NULL", "department the category belongs to"),
    )),
    TableDef("products", (
        ("product_id", "INTEGER PRIMARY KEY", "product number"),
        ("sku", "TEXT NOT NULL UNIQUE", "stock keeping unit code"),
        ("product_name", "TEXT NOT NULL", "catalogue name"),
        ("brand", "TEXT NOT NULL", "brand name"),
        ("category_id", "INTEGER NOT NULL REFERENCES categories(category_id)", "category"),
        ("list_price", "REAL NOT NULL", "current list price in USD"),
        ("discontinued", "INTEGER NOT NULL", "1 if no longer sold, 0 otherwise"),
    )),
    TableDef("customers", (
        ("customer_id", "INTEGER PRIMARY KEY", "customer number"),
        ("first_name", "TEXT NOT NULL", "given name"),
        ("last_name", "TEXT NOT NULL", "family name"),
        ("gender", "TEXT", "F, M or U (unknown)"),
        ("email", "TEXT UNIQUE", "contact e-mail address"),
        ("city", "TEXT", "home city as typed at sign-up"),
        ("state", "TEXT", "two-letter US state code"),
        ("birth_year", "INTEGER", "year of birth"),
        ("signup_date", "TEXT NOT NULL", "account creation date, YYYY-MM-DD"),
        ("loyalty_tier", "TEXT NOT NULL", "BRZ bronze, SLV silver, GLD gold, PLT platinum"),
        ("marketing_opt_in", "TEXT NOT NULL", "Y if the customer accepts marketing e-mail"),
    )),
    TableDef("order_status", (
        ("status_code", "TEXT PRIMARY KEY", "code stored in orders.status"),
        ("description", "TEXT NOT NULL", "what the status means"),
    )),
    TableDef("orders", (
        ("order_id", "INTEGER PRIMARY KEY", "order number"),
        ("customer_id", "INTEGER NOT NULL REFERENCES customers(customer_id)", "buyer"),
        ("store_id", "INTEGER REFERENCES stores(store_id)",
         "store of an in-store purchase; NULL for web and app orders"),
        ("order_date", "TEXT NOT NULL", "date the order was placed, YYYY-MM-DD"),
        ("channel", "TEXT NOT NULL", "WEB, APP or STORE"),
        ("status", "TEXT NOT NULL REFERENCES order_status(status_code)",
         "fulfilment status code"),
        ("payment_method", "TEXT NOT NULL", "CC, DC, PP, GC or CSH"),
        ("shipping_fee", "REAL NOT NULL", "shipping charged in USD"),
    )),
    TableDef("order_items", (
        ("order_id", "INTEGER NOT NULL REFERENCES orders(order_id)", "order"),
        ("line_no", "INTEGER NOT NULL", "line number within the order"),
        ("product_id", "INTEGER NOT NULL REFERENCES products(product_id)", "product sold"),
        ("quantity", "INTEGER NOT NULL", "units sold"),
        ("unit_price", "REAL NOT NULL", "price per unit in USD at the time of sale"),
        ("discount_pct", "INTEGER NOT NULL", "discount in percent, 0 to 30"),
    ), ("PRIMARY KEY (order_id, line_no)",)),
)

REGIONS = (
    (1, "W", "West", "Dana Whitfield"),
    (2, "MW", "Midwest", "Carl Jensen"),
    (3, "NE", "Northeast", "Rachel Goldberg"),
    (4, "S", "South", "Marcus Bell"),
    (5, "SW", "Southwest", "Elena Castillo"),
)

# (city as stored, state, region_id, weight for customers)
CITIES = (
    ("San Francisco", "CA", 1, 5), ("Los Angeles", "CA", 1, 8), ("San Diego", "CA", 1, 5),
    ("san jose", "CA", 1, 3), ("Sacramento", "CA", 1, 2), ("Seattle", "WA", 1, 4),
    ("Portland", "OR", 1, 3), ("Denver", "CO", 1, 3), ("Chicago", "IL", 2, 7),
    ("St. Louis", "MO", 2, 3), ("Kansas City", "MO", 2, 2), ("Minneapolis", "MN", 2, 3),
    ("Detroit", "MI", 2, 2), ("Columbus", "OH", 2, 2), ("NEW YORK", "NY", 3, 9),
    ("Boston", "MA", 3, 4), ("Philadelphia", "PA", 3, 4), ("Newark", "NJ", 3, 2),
    ("Atlanta", "GA", 4, 4), ("Nashville", "TN", 4, 2), ("Miami", "FL", 4, 4),
    ("Orlando", "FL", 4, 2), ("Charlotte", "NC", 4, 2), ("Winston-Salem", "NC", 4, 2),
    ("Phoenix", "AZ", 5, 4), ("Tucson", "AZ", 5, 1), ("Austin", "TX", 5, 3),
    ("Dallas", "TX", 5, 4), ("Houston", "TX", 5, 4), ("Albuquerque", "NM", 5, 1),
)

STORES = (
    ("Market Street Flagship", "San Francisco", "CA", 1, "2012-04-14", "Y", 42000),
    ("Mission Valley", "San Diego", "CA", 1, "2016-09-03", "N", 18500),
    ("Pioneer Square", "Seattle", "WA", 1, "2014-05-22", "N", 16000),
    ("Pearl District", "Portland", "OR", 1, "2018-03-10", "N", 12500),
    ("Magnificent Mile", "Chicago", "IL", 2, "2011-11-01", "Y", 39000),
    ("Gateway Arch Plaza", "St. Louis", "MO", 2, "2017-06-17", "N", 14000),
    ("Uptown Lakes", "Minneapolis", "MN", 2, "2019-08-24", "N", 11000),
    ("Herald Square", "NEW YORK", "NY", 3, "2010-10-09", "Y", 55000),
    ("Back Bay", "Boston", "MA", 3, "2015-04-18", "N", 15500),
    ("Buckhead", "Atlanta", "GA", 4, "2013-02-23", "N", 21000),
    ("Music Row", "Nashville", "TN", 4, "2020-07-11", "N", 9500),
    ("Hanes Mall", "Winston-Salem", "NC", 4, "2021-05-15", "N", 8800),
    ("Camelback", "Phoenix", "AZ", 5, "2016-01-30", "N", 17000),
    ("South Congress", "Austin", "TX", 5, "2018-10-27", "Y", 26000),
)

# (name, department, sku prefix, price range, product nouns)
CATEGORIES = (
    ("Footwear", "Apparel & Accessories", "FW", (39.0, 180.0),
     ("Trail Runner", "Court Sneaker", "Leather Boot", "Slip-On Loafer", "Hiking Boot",
      "Sandal", "Running Shoe")),
    ("Outerwear", "Apparel & Accessories", "OW", (59.0, 320.0),
     ("Rain Shell", "Down Parka", "Fleece Jacket", "Wool Coat", "Softshell Vest")),
    ("Tops & Tees", "Apparel & Accessories", "TT", (12.0, 65.0),
     ("Crew T-Shirt", "Polo Shirt", "Henley", "Tank Top", "Oxford Shirt")),
    ("Consumer Electronics", "Electronics", "CE", (19.0, 899.0),
     ("Wireless Earbuds", "Bluetooth Speaker", "Smartwatch", "4K Streaming Stick",
      "Noise-Cancelling Headphones", "Tablet 10in")),
    ("Home & Kitchen", "Home", "HK", (9.0, 249.0),
     ("Chef Knife", "Cast Iron Skillet", "Espresso Maker", "Linen Duvet Cover",
      "Stand Mixer", "Glass Storage Set")),
    ("Sporting Goods", "Outdoors", "SG", (15.0, 450.0),
     ("Yoga Mat", "Camping Tent", "Trekking Poles", "Road Bike Helmet", "Kettlebell")),
    ("Beauty & Personal Care", "Health & Beauty", "BP", (6.0, 120.0),
     ("Face Serum", "Electric Toothbrush", "Hair Dryer", "Sunscreen SPF50", "Beard Trimmer")),
    ("Toys & Games", "Kids", "TG", (8.0, 140.0),
     ("Building Blocks Set", "Board Game", "Plush Bear", "RC Car", "Puzzle 1000pc")),
    ("Pet Supplies", "Home", "PS", (5.0, 95.0),
     ("Dog Leash", "Cat Tree", "Pet Bed", "Chew Toy", "Automatic Feeder")),
    ("Grocery", "Food", "GR", (2.5, 35.0),
     ("Ground Coffee", "Olive Oil", "Granola", "Green Tea", "Dark Chocolate")),
)

BRANDS = {
    "FW": ("NorthPeak", "Stride & Co", "Kestrel"), "OW": ("NorthPeak", "Harbor Line"),
    "TT": ("Basic Thread", "Harbor Line"), "CE": ("Voltera", "Aurix", "Lumen"),
    "HK": ("Casa Nova", "Ironhearth"), "SG": ("NorthPeak", "Summit Gear"),
    "BP": ("Glow Lab", "Pure Ritual"), "TG": ("Tiny Giants", "PlayForge"),
    "PS": ("Happy Paws",), "GR": ("Green Valley", "Casa Nova"),
}

STATUSES = (
    ("PND", "Pending: placed, payment not yet captured"),
    ("SHP", "Shipped: handed to the carrier"),
    ("DLV", "Delivered to the customer"),
    ("CNL", "Cancelled before shipment"),
    ("RTN", "Returned after delivery"),
)


def build_rows() -> dict[str, list[tuple]]:
    """All rows of the database, drawn from one fixed seed."""
    rng = random.Random(SEED)
    rows: dict[str, list[tuple]] = {"regions": list(REGIONS), "order_status": list(STATUSES)}
    rows["stores"] = [(i + 1, *s) for i, s in enumerate(STORES)]
    rows["categories"] = [(i + 1, c[0], c[1]) for i, c in enumerate(CATEGORIES)]

    products = []
    for cat_id, (_, _, prefix, (lo, hi), nouns) in enumerate(CATEGORIES, start=1):
        for n in range(16):
            brand = rng.choice(BRANDS[prefix])
            noun = nouns[n % len(nouns)]
            edition = "" if n < len(nouns) else f" {rng.choice(('II', 'Pro', 'Lite', 'Max'))}"
            name = f"{brand} {noun}{edition}"
            price = round(rng.uniform(lo, hi), 0) - 0.01
            discontinued = 1 if rng.random() < 0.1 else 0
            products.append((len(products) + 1, f"{prefix}-{1000 + n * 7 + cat_id}", name,
                             brand, cat_id, price, discontinued))
    rows["products"] = products

    customers = []
    city_opts = [((c, s), w) for c, s, _, w in CITIES]
    for cid in range(1, 701):
        gender = weighted(rng, (("F", 49), ("M", 48), ("U", 3)))
        pool = FIRST_NAMES_F if gender == "F" else FIRST_NAMES_M
        if gender == "U":
            pool = FIRST_NAMES_F + FIRST_NAMES_M
        first, last = rng.choice(pool), rng.choice(LAST_NAMES)
        city, state = weighted(rng, city_opts)
        handle = f"{first}.{last}".lower().replace("'", "")
        customers.append((
            cid, first, last, gender, f"{handle}{cid}@example.com", city, state,
            rng.randint(1948, 2005),
            random_date(rng, dt.date(2019, 1, 1), dt.date(2023, 6, 30)).isoformat(),
            weighted(rng, (("BRZ", 55), ("SLV", 25), ("GLD", 15), ("PLT", 5))),
            "Y" if rng.random() < 0.42 else "N",
        ))
    rows["customers"] = customers

    stores_by_state: dict[str, list[int]] = {}
    for sid, s in enumerate(STORES, start=1):
        stores_by_state.setdefault(s[2], []).append(sid)
    all_store_ids = list(range(1, len(STORES) + 1))
    active = [p for p in products if p[6] == 0]
    orders, items = [], []
    last_day = dt.date(2023, 12, 31)
    for oid in range(1, 1501):
        cust = rng.choice(customers)
        signup = dt.date.fromisoformat(cust[8])
        day = random_date(rng, max(signup, dt.date(2022, 1, 1)), last_day)
        channel = weighted(rng, (("WEB", 45), ("APP", 25), ("STORE", 30)))
        store_id = None
        if channel == "STORE":
            local = stores_by_state.get(cust[6])
            store_id = rng.choice(local) if local and rng.random() < 0.85 else rng.choice(
                all_store_ids)
        age_days = (last_day - day).days
        if age_days < 6:
            status = weighted(rng, (("PND", 50), ("SHP", 50)))
        elif age_days < 20:
            status = weighted(rng, (("SHP", 60), ("DLV", 35), ("CNL", 5)))
        else:
            status = weighted(rng, (("DLV", 89), ("CNL", 6), ("RTN", 5)))
        if channel == "STORE":
            status = "RTN" if status == "RTN" else "DLV"
            payment = weighted(rng, (("CC", 45), ("DC", 30), ("CSH", 20), ("GC", 5)))
            fee = 0.0
        else:
            payment = weighted(rng, (("CC", 55), ("DC", 20), ("PP", 20), ("GC", 5)))
            fee = rng.choice((0.0, 0.0, 4.99, 7.99, 12.5))
        orders.append((oid, cust[0], store_id, day.isoformat(), channel, status, payment, fee))
        for line in range(1, weighted(rng, ((1, 30), (2, 35), (3, 25), (4, 10))) + 1):
            prod = rng.choice(active)
            discount = weighted(rng, ((0, 70), (5, 8), (10, 10), (15, 6), (20, 4), (30, 2)))
            qty = weighted(rng, ((1, 75), (2, 18), (3, 5), (4, 2)))
            items.append((oid, line, prod[0], qty, prod[5], discount))
    rows["orders"], rows["order_items"] = orders, items
    return rows
