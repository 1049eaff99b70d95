"""LibreOffice engine (placeholder until the UNO worker lands)."""


def available() -> bool:
    return False
