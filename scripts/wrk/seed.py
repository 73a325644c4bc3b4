"""Seeds COUNT varied listings into the BitFox API on 127.0.0.1:PORT (benchmarks only).

    python3 scripts/wrk/seed.py PORT COUNT
"""
import http.client, json, sys
port, count = int(sys.argv[1]), int(sys.argv[2])
models = ["RTX 4090", "RTX 3090", "A100 80GB", "H100", "L4", "T4", "A10", "RTX 4080"]
regions = ["eu-west", "us-east", "ap-south", "us-west"]
owner = "GD64YIY3TWGDMCNPP553DZPPR6LDUSFQOIJVFDPPXWEG3FVOJCCDBBHU5A"
conn = http.client.HTTPConnection("127.0.0.1", port)
for i in range(count):
    body = {"owner_address": owner, "gpu_model": models[i % len(models)],
            "price_per_minute": 100 + (i * 37) % 5000, "vram_gb": [16, 24, 48, 80][i % 4],
            "region": regions[(i // 8) % len(regions)]}
    conn.request("POST", "/gpus", json.dumps(body), {"Content-Type": "application/json"})
    response = conn.getresponse()
    response.read()
    assert response.status == 201, response.status
