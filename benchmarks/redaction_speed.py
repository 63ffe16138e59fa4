"""How long redaction takes on a full-length (4096-character) message: run on demand.

.venv/bin/python benchmarks/redaction_speed.py
"""

from __future__ import annotations

import statistics
import time

from flows.redaction import redact

CHUNK = (
    "您好，我昨天下午3点刷卡1,280.50元，商户号 123456789012345，终端号 12345678，"
    "参考号 312345678901，凭证号 004521，卡号是6222 0212 3456 7890 123，电话13812345678。"
)
CASES = {
    "realistic Chinese, many findings": (CHUNK * 40)[:4096],
    "Chinese, no digits": ("我的钱还没有到账请帮我查一下" * 300)[:4096],
    "ASCII, no digits": ("where is my money " * 300)[:4096],
    "hostile (pin 1234 repeated)": ("pin 1234 " * 500)[:4096],
}


def main() -> None:
    print("| message (4096 chars) | median ms | best ms |")
    print("|---|---|---|")
    for name, message in CASES.items():
        redact(message)
        runs = []
        for _ in range(50):
            start = time.perf_counter()
            redact(message)
            runs.append((time.perf_counter() - start) * 1000)
        print(f"| {name} | {statistics.median(runs):.2f} | {min(runs):.2f} |")


if __name__ == "__main__":
    main()
