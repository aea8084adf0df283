"""``hospital_admissions``: a Minnesota hospital's wards, doctors, patients and inpatient stays.

Stored values a question names differently: ICD-10 category codes ('E11' is type 2
diabetes), ward codes ('ICU'), plan codes ('MCR' is Medicare), admission types ('EMER'),
discharge dispositions ('AMA', 'EXP'), sex 'F'/'M', smoker 'Y'/'N'/'U', British spellings
('Paediatrics'), a carrier written 'BlueCross BlueShield' and cities such as 'MINNEAPOLIS'
and 'St. Paul'.
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

DB_ID = "hospital_admissions"
SEED = 20240502

TABLES = (
    TableDef("insurance_plans", (
        ("plan_id", "INTEGER PRIMARY KEY", "plan number"),
        ("plan_code", "TEXT NOT NULL UNIQUE", "payer code used on claims"),
        ("plan_name", "TEXT NOT NULL", "product name of the plan"),
        ("carrier", "TEXT", "insurance company or agency"),
        ("is_public", "TEXT NOT NULL", "Y for government programmes, N for private or self-pay"),
    )),
    TableDef("wards", (
        ("ward_id", "INTEGER PRIMARY KEY", "ward number"),
        ("ward_code", "TEXT NOT NULL UNIQUE", "short ward code used on bed boards"),
        ("ward_name", "TEXT NOT NULL", "ward name"),
        ("floor", "INTEGER NOT NULL", "building floor"),
        ("bed_count", "INTEGER NOT NULL", "staffed beds"),
    )),
    TableDef("doctors", (
        ("doctor_id", "INTEGER PRIMARY KEY", "doctor number"),
        ("npi", "TEXT NOT NULL UNIQUE", "10-digit national provider identifier"),
        ("first_name", "TEXT NOT NULL", "given name"),
        ("last_name", "TEXT NOT NULL", "family name"),
        ("specialty", "TEXT NOT NULL", "board specialty"),
        ("ward_id", "INTEGER NOT NULL REFERENCES wards(ward_id)", "home ward"),
        ("is_attending", "INTEGER NOT NULL", "1 for attending physicians, 0 for residents"),
        ("hire_date", "TEXT NOT NULL", "YYYY-MM-DD"),
    )),
    TableDef("patients", (
        ("patient_id", "INTEGER PRIMARY KEY", "patient number"),
        ("mrn", "TEXT NOT NULL UNIQUE", "medical record number"),
        ("first_name", "TEXT NOT NULL", "given name"),
        ("last_name", "TEXT NOT NULL", "family name"),
        ("sex", "TEXT NOT NULL", "F or M"),
        ("birth_date", "TEXT NOT NULL", "YYYY-MM-DD"),
        ("city", "TEXT", "home city as registered"),
        ("state", "TEXT", "two-letter US state code"),
        ("plan_id", "INTEGER REFERENCES insurance_plans(plan_id)", "primary insurance plan"),
        ("smoker", "TEXT NOT NULL", "Y current smoker, N non-smoker, U unknown"),
        ("blood_type", "TEXT", "ABO group and Rh factor, e.g. O+"),
    )),
    TableDef("icd_codes", (
        ("icd_code", "TEXT PRIMARY KEY", "ICD-10-CM category code"),
        ("description", "TEXT NOT NULL", "official short description"),
        ("chapter", "TEXT NOT NULL", "ICD-10 chapter"),
        ("is_chronic", "TEXT NOT NULL", "Y for chronic conditions"),
    )),
    TableDef("admissions", (
        ("admission_id", "INTEGER PRIMARY KEY", "inpatient stay number"),
        ("patient_id", "INTEGER NOT NULL REFERENCES patients(patient_id)", "patient"),
        ("ward_id", "INTEGER NOT NULL REFERENCES wards(ward_id)", "ward of the stay"),
        ("attending_doctor_id", "INTEGER NOT NULL REFERENCES doctors(doctor_id)",
         "responsible doctor"),
        ("admit_date", "TEXT NOT NULL", "YYYY-MM-DD"),
        ("discharge_date", "TEXT", "YYYY-MM-DD; NULL while still admitted"),
        ("admission_type", "TEXT NOT NULL",
         "EMER emergency, URG urgent, ELEC elective, NB newborn"),
        ("discharge_disposition", "TEXT",
         "HOME, HHC home health care, SNF skilled nursing, TRF transfer, AMA, EXP"),
        ("total_charges", "REAL", "billed charges in USD"),
    )),
    TableDef("diagnoses", (
        ("diagnosis_id", "INTEGER PRIMARY KEY", "diagnosis row number"),
        ("admission_id", "INTEGER NOT NULL REFERENCES admissions(admission_id)", "stay"),
        ("icd_code", "TEXT NOT NULL REFERENCES icd_codes(icd_code)", "diagnosis code"),
        ("is_primary", "INTEGER NOT NULL", "1 for the principal diagnosis of the stay"),
        ("present_on_admission", "TEXT NOT NULL", "Y, N or U"),
    )),
)

PLANS = (
    (1, "MCR", "Original Medicare Part A", "Centers for Medicare & Medicaid Services", "Y"),
    (2, "MCD", "Medical Assistance", "Minnesota DHS", "Y"),
    (3, "BCBS-PPO", "Blue Plus PPO", "BlueCross BlueShield", "N"),
    (4, "BCBS-HMO", "Blue Plus HMO", "BlueCross BlueShield", "N"),
    (5, "UHC-CP", "Choice Plus", "UnitedHealthcare", "N"),
    (6, "AET-OA", "Open Access Select", "Aetna", "N"),
    (7, "TRI", "TRICARE Select", "Defense Health Agency", "Y"),
    (8, "SELF", "Self-pay", None, "N"),
)

# (code, name, floor, beds)
WARDS = (
    ("ICU", "Intensive Care Unit", 3, 24), ("CCU", "Cardiac Care Unit", 3, 18),
    ("PED", "Paediatrics", 5, 30), ("MAT", "Maternity", 4, 32), ("ONC", "Oncology", 6, 28),
    ("ORTH", "Orthopaedics", 2, 26), ("GMED", "General Medicine", 1, 60),
    ("SURG", "General Surgery", 2, 40), ("NEUR", "Neurology", 6, 20),
)

SPECIALTY_BY_WARD = {
    "ICU": ("Critical Care Medicine", "Pulmonology"), "CCU": ("Cardiology",),
    "PED": ("Pediatrics",), "MAT": ("Obstetrics & Gynecology",), "ONC": ("Oncology",),
    "ORTH": ("Orthopedic Surgery",), "GMED": ("Internal Medicine", "Endocrinology"),
    "SURG": ("General Surgery",), "NEUR": ("Neurology",),
}

INJURY = "Injury, poisoning and certain other consequences of external causes"
MUSCULOSKELETAL = "Diseases of the musculoskeletal system and connective tissue"
# (code, description, chapter, chronic Y/N, usual ward code, patient group it occurs in)
ICD = (
    ("E11", "Type 2 diabetes mellitus", "Endocrine, nutritional and metabolic diseases", "Y",
     "GMED", "adult"),
    ("E10", "Type 1 diabetes mellitus", "Endocrine, nutritional and metabolic diseases", "Y",
     "GMED", "any"),
    ("E66", "Overweight and obesity", "Endocrine, nutritional and metabolic diseases", "Y",
     "GMED", "adult"),
    ("I10", "Essential (primary) hypertension", "Diseases of the circulatory system", "Y",
     "GMED", "adult"),
    ("I21", "Acute myocardial infarction", "Diseases of the circulatory system", "N",
     "CCU", "adult"),
    ("I50", "Heart failure", "Diseases of the circulatory system", "Y", "CCU", "adult"),
    ("I63", "Cerebral infarction", "Diseases of the circulatory system", "N", "NEUR", "adult"),
    ("J18", "Pneumonia, unspecified organism", "Diseases of the respiratory system", "N",
     "GMED", "any"),
    ("J44", "Other chronic obstructive pulmonary disease", "Diseases of the respiratory system",
     "Y", "GMED", "adult"),
    ("J45", "Asthma", "Diseases of the respiratory system", "Y", "PED", "child"),
    ("A41", "Other sepsis", "Certain infectious and parasitic diseases", "N", "ICU", "any"),
    ("U07", "Emergency use: COVID-19", "Codes for special purposes", "N", "ICU", "adult"),
    ("N18", "Chronic kidney disease", "Diseases of the genitourinary system", "Y", "GMED",
     "adult"),
    ("N39", "Other disorders of urinary system", "Diseases of the genitourinary system", "N",
     "GMED", "any"),
    ("K35", "Acute appendicitis", "Diseases of the digestive system", "N", "SURG", "any"),
    ("K80", "Cholelithiasis", "Diseases of the digestive system", "N", "SURG", "adult"),
    ("S72", "Fracture of femur", INJURY, "N", "ORTH", "adult"),
    ("M17", "Osteoarthritis of knee", MUSCULOSKELETAL, "Y", "ORTH", "adult"),
    ("C34", "Malignant neoplasm of bronchus and lung", "Neoplasms", "Y", "ONC", "adult"),
    ("C50", "Malignant neoplasm of breast", "Neoplasms", "Y", "ONC", "adult"),
    ("G40", "Epilepsy and recurrent seizures", "Diseases of the nervous system", "Y", "NEUR",
     "any"),
    ("F32", "Major depressive disorder, single episode", "Mental and behavioural disorders",
     "N", "GMED", "adult"),
    ("O80", "Encounter for full-term uncomplicated delivery",
     "Pregnancy, childbirth and the puerperium", "N", "MAT", "mother"),
    ("Z38", "Liveborn infants according to place of birth and type of delivery",
     "Factors influencing health status and contact with health services", "N", "PED",
     "newborn"),
    ("R07", "Pain in throat and chest", "Symptoms, signs and abnormal findings", "N", "CCU",
     "adult"),
)
CHRONIC_ADULT = ("E11", "I10", "E66", "J44", "N18", "I50", "M17")

CITIES = (
    ("MINNEAPOLIS", "MN", 22), ("St. Paul", "MN", 14), ("Bloomington", "MN", 6),
    ("Duluth", "MN", 4), ("Rochester", "MN", 5), ("Eden Prairie", "MN", 4),
    ("Maple Grove", "MN", 4), ("St. Cloud", "MN", 4), ("Plymouth", "MN", 4),
    ("Edina", "MN", 3), ("Brooklyn Park", "MN", 3), ("Hudson", "WI", 3),
    ("Eau Claire", "WI", 2), ("Fargo", "ND", 2), ("Sioux Falls", "SD", 1),
)


def _age(birth: dt.date, on: dt.date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def build_rows() -> dict[str, list[tuple]]:
    """All rows of the database, drawn from one fixed seed."""
    rng = random.Random(SEED)
    rows: dict[str, list[tuple]] = {"insurance_plans": list(PLANS)}
    rows["wards"] = [(i + 1, *w) for i, w in enumerate(WARDS)]
    ward_id = {w[0]: i + 1 for i, w in enumerate(WARDS)}
    rows["icd_codes"] = [c[:4] for c in ICD]

    doctors = []
    docs_by_ward: dict[str, list[int]] = {}
    for code, _, _, _ in WARDS:
        for k in range(5 if code == "GMED" else 4):
            sex = rng.choice("FM")
            first = rng.choice(FIRST_NAMES_F if sex == "F" else FIRST_NAMES_M)
            did = len(doctors) + 1
            specialty = SPECIALTY_BY_WARD[code][k % len(SPECIALTY_BY_WARD[code])]
            doctors.append((did, str(1_000_000_000 + rng.randint(0, 899_999_999)), first,
                            rng.choice(LAST_NAMES), specialty, ward_id[code],
                            0 if k == 3 else 1,
                            random_date(rng, dt.date(2003, 1, 1), dt.date(2021, 12, 31))
                            .isoformat()))
            if k != 3:
                docs_by_ward.setdefault(code, []).append(did)
    rows["doctors"] = doctors

    patients = []
    city_opts = [((c, s), w) for c, s, w in CITIES]
    for pid in range(1, 901):
        sex = rng.choice("FM")
        birth = random_date(rng, dt.date(1932, 1, 1), dt.date(2021, 12, 31))
        if pid % 9 == 0:
            birth = random_date(rng, dt.date(2021, 1, 1), dt.date(2023, 10, 31))
        age = _age(birth, dt.date(2022, 1, 1))
        plan = weighted(rng, ((1, 30 if age >= 65 else 1), (2, 14), (3, 16), (4, 10),
                              (5, 12), (6, 8), (7, 3), (8, 4)))
        city, state = weighted(rng, city_opts)
        smoker = "U" if age < 16 else weighted(rng, (("Y", 17), ("N", 75), ("U", 8)))
        patients.append((
            pid, f"MRN{7_300_000 + pid * 13:08d}",
            rng.choice(FIRST_NAMES_F if sex == "F" else FIRST_NAMES_M),
            rng.choice(LAST_NAMES), sex, birth.isoformat(), city, state, plan, smoker,
            weighted(rng, (("O+", 37), ("A+", 33), ("B+", 9), ("O-", 7), ("A-", 6),
                           ("AB+", 4), ("B-", 2), ("AB-", 1))),
        ))
    rows["patients"] = patients

    by_group: dict[str, list[tuple]] = {}
    for entry in ICD:
        by_group.setdefault(entry[5], []).append(entry)
    admissions, diagnoses = [], []
    born_here: set[int] = set()
    start, end = dt.date(2021, 1, 1), dt.date(2023, 12, 31)
    for aid in range(1, 1701):
        patient = rng.choice(patients)
        birth = dt.date.fromisoformat(patient[5])
        if birth >= start and patient[0] not in born_here and rng.random() < 0.5:
            admit = birth
            born_here.add(patient[0])
        else:
            admit = random_date(rng, max(start, birth + dt.timedelta(days=1)), end)
        age = _age(birth, admit)
        if admit == birth:
            group = "newborn"
        elif age < 16:
            group = "child"
        elif patient[4] == "F" and 18 <= age <= 44 and rng.random() < 0.3:
            group = "mother"
        else:
            group = "adult"
        options = by_group[group] + (by_group["any"] if group in ("adult", "child") else [])
        primary = rng.choice(options)
        ward = primary[4]
        if group == "child" and ward not in ("PED", "ICU", "SURG"):
            ward = "PED"
        if group == "adult" and primary[0] in ("J18", "N39") and rng.random() < 0.15:
            ward = "ICU"
        if group == "newborn":
            adm_type = "NB"
        elif group == "mother" or primary[0] in ("M17", "K80", "C50"):
            adm_type = weighted(rng, (("ELEC", 70), ("URG", 20), ("EMER", 10)))
        else:
            adm_type = weighted(rng, (("EMER", 62), ("URG", 25), ("ELEC", 13)))
        los = max(1, int(rng.expovariate(1 / (7 if ward == "ICU" else 4))) + 1)
        discharge = admit + dt.timedelta(days=los)
        severe = ward in ("ICU", "CCU", "ONC") or age >= 80
        if discharge > end:
            disposition, discharge_s, charges = None, None, None
        else:
            discharge_s = discharge.isoformat()
            disposition = weighted(rng, (
                ("HOME", 70), ("HHC", 10), ("SNF", 10 if age >= 65 else 2), ("TRF", 3),
                ("AMA", 3 if group == "adult" else 0), ("EXP", 6 if severe else 1)))
            daily = {"ICU": 6200, "CCU": 4800, "ONC": 3900, "SURG": 4100}.get(ward, 2600)
            charges = round(los * daily * rng.uniform(0.8, 1.3) + rng.uniform(300, 2500), 2)
        doctor = rng.choice(docs_by_ward[ward])
        admissions.append((aid, patient[0], ward_id[ward], doctor, admit.isoformat(),
                           discharge_s, adm_type, disposition, charges))
        diagnoses.append((len(diagnoses) + 1, aid, primary[0], 1, "Y"))
        if group == "adult":
            extra = rng.sample(CHRONIC_ADULT, k=weighted(rng, ((0, 30), (1, 35), (2, 25),
                                                               (3, 10))))
            for code in extra:
                if code != primary[0]:
                    diagnoses.append((len(diagnoses) + 1, aid, code, 0,
                                      weighted(rng, (("Y", 85), ("N", 10), ("U", 5)))))
    rows["admissions"], rows["diagnoses"] = admissions, diagnoses
    return rows
