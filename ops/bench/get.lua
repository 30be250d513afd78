-- wrk script: GET a charge as the tenant whose key is in FINCORE_KEY.
--   FINCORE_KEY=... wrk -t2 -c64 -d10s --latency -s ops/bench/get.lua "$GATEWAY/v1/charges/$CHARGE_ID"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("FINCORE_KEY")
