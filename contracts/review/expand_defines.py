"""Expand the TEAL `#define NAME value` macros (go-algorand >= 3.16 assembler syntax) so that
tealer 0.1.2, which does not know them, can parse the program.

Whole-token substitution outside comments; each #define line becomes a comment so that line
numbers stay the same. run-tealer.sh checks with go-algorand's assembler that the expanded
program assembles to exactly the same bytecode as the original.

usage: python3 expand_defines.py IN.teal > OUT.teal
"""
import re
import sys

macros: dict[str, str] = {}
out = []
for line in open(sys.argv[1], encoding="utf-8").read().splitlines():
    m = re.match(r"\s*#define\s+(\S+)\s+(.*?)\s*$", line)
    if m:
        macros[m.group(1)] = m.group(2).partition("//")[0].strip()
        out.append("// " + line.strip())
        continue
    code, sep, comment = line.partition("//")
    out.append("".join(macros.get(t, t) for t in re.split(r"(\s+)", code)) + sep + comment)
sys.stdout.write("\n".join(out) + "\n")
