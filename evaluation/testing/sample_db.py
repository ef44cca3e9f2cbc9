"""A deterministic sample of the book's evaluation domain (a game: players, guilds, quests, equipment).

`GAME_DDL` is MySQL-flavoured like the book's `context` column; `build_game_database` fills an SQLite file
with the same tables (through `evaluation.schema`) and seeded random rows, NULLs and floats included.
Different seeds give test-suite style variants of one schema.
"""

from __future__ import annotations

import random
import sqlite3
from contextlib import closing
from pathlib import Path

from evaluation.schema import sqlite_schema

GAME_DDL = """CREATE TABLE guilds (
  guild_id INT AUTO_INCREMENT PRIMARY KEY,
  name VARCHAR(50) NOT NULL COMMENT '길드 이름',
  founded_at DATE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE TABLE players (
  player_id INT AUTO_INCREMENT PRIMARY KEY,
  username VARCHAR(50) NOT NULL UNIQUE,
  class ENUM('warrior', 'mage', 'archer', 'rogue') NOT NULL,
  level INT NOT NULL DEFAULT 1,
  gold DECIMAL(12, 2) DEFAULT 0,
  guild_id INT NULL,
  created_at DATETIME DEFAULT CURRENT_TIMESTAMP,
  FOREIGN KEY (guild_id) REFERENCES guilds (guild_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE TABLE quests (
  quest_id INT AUTO_INCREMENT PRIMARY KEY,
  title VARCHAR(100) NOT NULL,
  difficulty ENUM('easy', 'normal', 'hard') NOT NULL,
  min_level INT NOT NULL,
  reward_gold DECIMAL(10, 2) NOT NULL
);
CREATE TABLE player_quests (
  player_id INT NOT NULL,
  quest_id INT NOT NULL,
  status ENUM('in_progress', 'completed', 'abandoned') NOT NULL,
  completed_at DATETIME NULL,
  PRIMARY KEY (player_id, quest_id),
  FOREIGN KEY (player_id) REFERENCES players (player_id),
  FOREIGN KEY (quest_id) REFERENCES quests (quest_id)
);
CREATE TABLE equipments (
  equipment_id INT AUTO_INCREMENT PRIMARY KEY,
  name VARCHAR(100) NOT NULL,
  type ENUM('weapon', 'armor', 'accessory') NOT NULL,
  attack INT DEFAULT 0,
  defense INT DEFAULT 0,
  price DECIMAL(10, 2) NOT NULL
);
CREATE TABLE player_equipments (
  player_id INT NOT NULL,
  equipment_id INT NOT NULL,
  equipped TINYINT(1) DEFAULT 0,
  PRIMARY KEY (player_id, equipment_id)
);"""

_GUILDS = [
    "용의 기사단",
    "별빛 수호대",
    "검은 늑대",
    "푸른 바람",
    "황금 사자",
    "은빛 달",
    "붉은 매",
    "고요한 숲",
]
_CLASSES = ["warrior", "mage", "archer", "rogue"]
_DIFFICULTIES = ["easy", "normal", "hard"]
_STATUSES = ["in_progress", "completed", "abandoned"]
_TYPES = ["weapon", "armor", "accessory"]


def build_game_database(path: str | Path, *, players: int = 200, seed: int = 0) -> Path:
    """Create (or replace) an SQLite file with the game schema and `players` seeded players."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    rng = random.Random(seed)
    with closing(sqlite3.connect(path)) as connection, connection:
        for statement in sqlite_schema(GAME_DDL, "mysql").statements:
            connection.execute(statement)
        _fill(connection, rng, players)
    return path


def _fill(connection: sqlite3.Connection, rng: random.Random, players: int) -> None:
    guilds = [
        (i, name, f"20{rng.randint(18, 23)}-{rng.randint(1, 12):02d}-01") for i, name in enumerate(_GUILDS, 1)
    ]
    connection.executemany("INSERT INTO guilds VALUES (?, ?, ?)", guilds)
    connection.executemany(
        "INSERT INTO players VALUES (?, ?, ?, ?, ?, ?, ?)", [_player(rng, i) for i in range(1, players + 1)]
    )
    quests = [
        (i, f"퀘스트 {i}", rng.choice(_DIFFICULTIES), rng.randint(1, 50), round(rng.uniform(10, 900), 2))
        for i in range(1, 31)
    ]
    connection.executemany("INSERT INTO quests VALUES (?, ?, ?, ?, ?)", quests)
    equipments = [
        (
            i,
            f"장비 {i}",
            rng.choice(_TYPES),
            rng.randint(0, 120),
            rng.randint(0, 80),
            round(rng.uniform(5, 2500), 2),
        )
        for i in range(1, 41)
    ]
    connection.executemany("INSERT INTO equipments VALUES (?, ?, ?, ?, ?, ?)", equipments)
    for player_id in range(1, players + 1):
        for quest_id in rng.sample(range(1, 31), rng.randint(0, 5)):
            status = rng.choice(_STATUSES)
            completed = (
                f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}" if status == "completed" else None
            )
            connection.execute(
                "INSERT INTO player_quests VALUES (?, ?, ?, ?)", (player_id, quest_id, status, completed)
            )
        for equipment_id in rng.sample(range(1, 41), rng.randint(0, 4)):
            connection.execute(
                "INSERT INTO player_equipments VALUES (?, ?, ?)", (player_id, equipment_id, rng.randint(0, 1))
            )


def _player(rng: random.Random, player_id: int) -> tuple:
    guild = rng.randint(1, len(_GUILDS)) if rng.random() > 0.3 else None
    created = f"202{rng.randint(3, 4)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d} 12:00:00"
    gold = round(rng.uniform(0, 5000), 2)
    return (
        player_id,
        f"player{player_id:04d}",
        rng.choice(_CLASSES),
        rng.randint(1, 60),
        gold,
        guild,
        created,
    )
