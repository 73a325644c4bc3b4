"""Run every tealer 0.1.2 detector in group-configuration mode and print every result.

The CLI's group mode (`tealer detect --group-config F --detectors ...`) prints only the
detectors that found something and always exits 1; this prints a line per detector output.
usage: python tealer_group.py CONFIG.yaml
"""
import logging
import sys
from pathlib import Path

from tealer.utils.command_line.common import get_detectors_and_printers, init_tealer_from_config
from tealer.utils.command_line.group_config import read_config_from_file

logging.disable(logging.DEBUG)
tealer = init_tealer_from_config(read_config_from_file(Path(sys.argv[1])))
detectors, _ = get_detectors_and_printers()
for detector in detectors:
    tealer.register_detector(detector)
names = [d.NAME for d in detectors]
reported = set()
for per_detector in tealer.run_detectors():
    for output in per_detector if isinstance(per_detector, list) else [per_detector]:
        reported.add(output.detector.NAME)
        print(f"{output.detector.NAME}: {output.to_json().get('count', '?')} result(s)")
        output.generate_output(Path("."))
for name in names:
    if name not in reported:
        print(f"{name}: 0 result(s) (nothing reported for this group configuration)")
