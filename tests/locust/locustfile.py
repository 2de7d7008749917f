"""The load-testing guide's Resource Agent user, as Locust runs it, for `slagate judge`.

Each task's `name=` is the SLA endpoint's name in sla.toml (`/analysis/`, ...), so that
`slagate judge --locust PREFIX` matches Locust's Name column to the SLA. The weights are
sla.toml's (5, 3, 2, 2, 1), and the think time is the medium profile's (0.2-0.8 s).

    locust -f tests/locust/locustfile.py --headless -u 50 -r 5 -t 5m \
        --host http://127.0.0.1:8003 --csv run --json > run.json
    slagate judge --locust run --locust-json run.json --profile medium
"""

from locust import HttpUser, between, task


class ResourceAgentUser(HttpUser):
    wait_time = between(0.2, 0.8)

    @task(5)
    def health(self):
        self.client.get("/health/", name="/health/")

    @task(3)
    def system_metrics(self):
        self.client.get("/system/metrics", name="/system/metrics")

    @task(2)
    def analysis(self):
        self.client.post("/analysis/", json={"window": "5m"}, name="/analysis/")

    @task(2)
    def lmcache_status(self):
        self.client.get("/lmcache/status", name="/lmcache/status")

    @task(1)
    def optimize(self):
        self.client.post("/optimize/run", json={"dry_run": True}, name="/optimize/run")
