-- wrk script: POST /v1/charges as the tenant whose key is in FINCORE_KEY.
--   FINCORE_KEY=$(jq -r .demo_api_key .fincore/run.json) wrk -t2 -c64 -d10s --latency -s ops/bench/post.lua "$(jq -r .gateway_url .fincore/run.json)/v1/charges"
-- Lift the demo tenant's limits first, or most requests measure the rate limiter and the risk rules:
--   psql "$(jq -r .psql .fincore/run.json)" -c "UPDATE tenants SET requests_per_second=1000000, velocity_payment_method=1000000, velocity_customer=1000000"
-- (the gateway caches tenant settings for 5 s).
wrk.method = "POST"
wrk.body = '{"amount":1999,"currency":"BRL","payment_method":"pm_card_visa","description":"order 42"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("FINCORE_KEY")
