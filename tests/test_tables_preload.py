"""`tables.preload` reads every data file of the rules once (the language server's engine does
it before its first document arrives), and stops as soon as it is told to."""

from __future__ import annotations

from importlib import resources

from kerasfix.rules.engine import tables


def _clear() -> None:
    for loader in (tables.load_toml, tables.load_json, tables.load_lines):
        loader.cache_clear()


def test_preload_reads_every_data_file():
    _clear()
    tables.preload()
    names = [entry.name for entry in resources.files("kerasfix.rules").joinpath("data").iterdir()]
    loaded = sum(loader.cache_info().currsize for loader in (tables.load_toml, tables.load_json, tables.load_lines))
    assert loaded == len([n for n in names if n.endswith((".toml", ".json", ".txt"))]) > 20


def test_preload_stops_when_a_request_waits():
    _clear()
    asked = []

    def stop() -> bool:
        asked.append(True)
        return len(asked) > 2

    tables.preload(stop=stop)
    loaded = sum(loader.cache_info().currsize for loader in (tables.load_toml, tables.load_json, tables.load_lines))
    assert loaded == 2
