# Every FinCore image from one build: docker build --target gateway|silo|psp-sandbox|loadgen -t fincore-<target>:<tag> .
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY . .
RUN dotnet publish Gateway/FinCore.Gateway.csproj -c Release -o /out/gateway --nologo \
 && dotnet publish Silo/FinCore.Silo.csproj -c Release -o /out/silo --nologo \
 && dotnet publish PspSandbox/FinCore.PspSandbox.csproj -c Release -o /out/psp-sandbox --nologo \
 && dotnet publish LoadGen/FinCore.LoadGen.csproj -c Release -o /out/loadgen --nologo

# curl for container health checks; the images run as the non-root "app" user.
FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS service
RUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*
WORKDIR /app
USER app

FROM service AS gateway
COPY --from=build /out/gateway .
ENV FINCORE_HTTP_PORT=8080 FINCORE_LISTEN_ADDRESS=0.0.0.0
EXPOSE 8080
ENTRYPOINT ["dotnet", "FinCore.Gateway.dll"]

FROM service AS silo
COPY --from=build /out/silo .
ENV FINCORE_SILO_PORT=11111 FINCORE_GATEWAY_PORT=30000 FINCORE_HTTP_PORT=8081 FINCORE_SILO_LISTEN_ADDRESS=0.0.0.0
EXPOSE 11111 30000 8081
# Other silos and gateways dial the address a silo advertises: the task's own IP unless set.
ENTRYPOINT ["/bin/sh", "-c", "export FINCORE_SILO_ADDRESS=${FINCORE_SILO_ADDRESS:-$(hostname -i | cut -d' ' -f1)}; exec dotnet FinCore.Silo.dll"]

FROM service AS psp-sandbox
COPY --from=build /out/psp-sandbox .
ENV FINCORE_HTTP_PORT=8080 FINCORE_LISTEN_ADDRESS=0.0.0.0
EXPOSE 8080
ENTRYPOINT ["dotnet", "FinCore.PspSandbox.dll"]

# ASP.NET Core: the agent (loadgen agent) and the webhook sink serve HTTP.
FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS loadgen
WORKDIR /app
COPY --from=build /out/loadgen .
USER app
EXPOSE 7700
# In ECS the operator token arrives as LOADGEN_ADMIN_TOKEN (from Secrets Manager); arguments are LoadGen's own.
ENTRYPOINT ["/bin/sh", "-c", "exec dotnet FinCore.LoadGen.dll \"$@\" ${LOADGEN_ADMIN_TOKEN:+--admin-token $LOADGEN_ADMIN_TOKEN}", "loadgen"]
