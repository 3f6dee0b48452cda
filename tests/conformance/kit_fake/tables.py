from piccolo.columns import Integer, Text, Timestamptz, Varchar
from piccolo.table import Table


class Thing(Table, tablename="kit_fake_thing"):
    tenant_id = Integer()
    name = Varchar(length=200, default="")
    note = Text(default="")
    status = Varchar(length=16, default="open")  # declared neither way (the kit must say so)
    closed_at = Timestamptz(null=True, default=None)
    anonymized_at = Timestamptz(null=True, default=None)
