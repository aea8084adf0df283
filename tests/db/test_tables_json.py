from __future__ import annotations

from sqlsynth.db.tables_json import schema_from_tables_json

ENTRY = {
    "db_id": "pets",
    "table_names_original": ["Student", "Has_Pet"],
    "column_names_original": [[-1, "*"], [0, "StuID"], [0, "Name"], [1, "StuID"], [1, "PetID"]],
    "column_types": ["text", "number", "text", "number", "number"],
    "primary_keys": [1, [3, 4]],
    "foreign_keys": [[3, 1]],
}


def test_tables_columns_keys_keep_their_original_names():
    schema = schema_from_tables_json(ENTRY)
    assert schema.db_id == "pets" and schema.table_names == ["Student", "Has_Pet"]
    student, has_pet = schema.tables
    assert [(c.name, c.type) for c in student.columns] == [("StuID", "NUMBER"), ("Name", "TEXT")]
    assert student.primary_key == ["StuID"] and has_pet.primary_key == ["StuID", "PetID"]
    (fk,) = has_pet.foreign_keys
    assert (fk.columns, fk.ref_table, fk.ref_columns) == (["StuID"], "Student", ["StuID"])
