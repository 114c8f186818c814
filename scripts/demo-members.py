#!/usr/bin/env python3
"""Writes a demo members CSV for `loyalty-server import` (make run).

Usage: demo-members.py COUNT OUT.csv
Deterministic (seeded): the same COUNT gives the same file, so a second `make run` finds
it already imported. Cards are EAN-13 `27` + 10-digit serial + check digit; the first one
is 2700000000015... printed by scripts/demo.sh for the cashier to scan.
"""
import csv
import random
import sys

FIRST = ["Анна", "Иван", "Мария", "Пётр", "Елена", "Сергей", "Ольга", "Дмитрий", "Наталья",
         "Алексей", "Татьяна", "Андрей", "Ирина", "Николай", "Светлана", "Михаил"]
LAST = ["Иванов", "Петров", "Сидоров", "Смирнов", "Кузнецов", "Попов", "Васильев", "Соколов",
        "Михайлов", "Новиков", "Фёдоров", "Морозов", "Волков", "Алексеев", "Лебедев"]
CHANNELS = ["sms", "email", "messenger", "none"]


def ean13(first12: str) -> str:
    s = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(first12))
    return first12 + str((10 - s % 10) % 10)


def main() -> None:
    count, out = int(sys.argv[1]), sys.argv[2]
    rnd = random.Random(20261123)
    with open(out, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, delimiter=";")
        w.writerow(["card", "phone", "name", "birthday", "consent", "channel", "points"])
        for i in range(count):
            first = rnd.choice(FIRST)
            last = rnd.choice(LAST)
            if first.endswith("а") or first.endswith("я"):
                last += "а"
            birthday = f"{rnd.randint(1950, 2006)}-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}"
            w.writerow([
                ean13(f"27{i:010d}"),
                f"+7916{i:07d}",
                f"{last} {first}",
                birthday if rnd.random() < 0.8 else "",
                "да" if rnd.random() < 0.7 else "нет",
                rnd.choice(CHANNELS),
                rnd.choice([0, 0, 50, 120, 300, 800, 1500]),
            ])


if __name__ == "__main__":
    main()
