using Amazon.CDK;
using Amazon.CDK.AWS.ApplicationAutoScaling;
using Amazon.CDK.AWS.CloudWatch;
using Amazon.CDK.AWS.EC2;
using Amazon.CDK.AWS.ECR;
using Amazon.CDK.AWS.ECS;
using Amazon.CDK.AWS.ElasticLoadBalancingV2;
using Amazon.CDK.AWS.Logs;
using Amazon.CDK.AWS.RDS;
using Amazon.CDK.AWS.SecretsManager;
using Amazon.CDK.AWS.ServiceDiscovery;
using Constructs;
using EcsHealthCheck = Amazon.CDK.AWS.ECS.HealthCheck;
using Protocol = Amazon.CDK.AWS.ECS.Protocol;
using Secret = Amazon.CDK.AWS.SecretsManager.Secret;

namespace FinCore.Deploy;

/// <summary>
/// FinCore on ECS/Fargate: a VPC; the gateway behind a public ALB; silos on a private port (they find each other
/// through the membership table in PostgreSQL; Cloud Map names them for operators); RDS PostgreSQL Multi-AZ;
/// Secrets Manager for the operator token, the cluster secret and the database password; CPU autoscaling;
/// alarms on 5xx rate, p95 latency and dead letters; a LoadGen task for in-region load tests, and a service of
/// LoadGen agents (none in production, four in staging) that the LoadGen task coordinates for a distributed test.
/// </summary>
public sealed class FinCoreStack : Stack
{
    public const int GatewayPort = 8080;
    public const int SiloPort = 11111;
    public const int SiloHttpPort = 8081;

    /// <summary>Orleans' gateway port on each silo: where gateways (Orleans clients) connect.</summary>
    public const int SiloGatewayPort = 30000;
    public const int PostgresPort = 5432;
    public const int LoadGenAgentPort = 7700;

    /// <summary>The agents' Cloud Map name: every agent task's address, for <c>--agents dns:…</c>.</summary>
    public const string LoadGenAgentName = "loadgen-agent";

    /// <summary>Silos get this long to drain on SIGTERM (leave the ring, finish turns, hand over) before SIGKILL.</summary>
    public static readonly Duration SiloStopTimeout = Duration.Seconds(120);

    public FinCoreStack(Construct scope, string id, StackSizes sizes, IStackProps? props = null) : base(scope, id, props)
    {
        var imageTag = Node.TryGetContext("imageTag") as string ?? "latest";
        var pspUrl = Node.TryGetContext("pspUrl") as string ?? "https://psp.invalid";
        var mailFrom = Node.TryGetContext("mailFrom") as string ?? "FinCore <notifications@fincore.invalid>";

        var vpc = new Vpc(this, "Vpc", new VpcProps
        {
            MaxAzs = 2,
            NatGateways = sizes.NatGateways,
            SubnetConfiguration =
            [
                new SubnetConfiguration { Name = "public", SubnetType = SubnetType.PUBLIC, CidrMask = 24 },
                new SubnetConfiguration { Name = "app", SubnetType = SubnetType.PRIVATE_WITH_EGRESS, CidrMask = 22 },
                new SubnetConfiguration { Name = "data", SubnetType = SubnetType.PRIVATE_ISOLATED, CidrMask = 24 },
            ],
        });
        var appSubnets = new SubnetSelection { SubnetType = SubnetType.PRIVATE_WITH_EGRESS };

        // Security groups: the ALB takes the internet; the gateway only the ALB; silos the gateway and each other;
        // PostgreSQL only gateway and silos.
        var albSg = new SecurityGroup(this, "AlbSg", new SecurityGroupProps { Vpc = vpc, Description = "FinCore ALB", AllowAllOutbound = false });
        albSg.AddIngressRule(Peer.AnyIpv4(), Port.Tcp(80), "HTTP from clients");
        albSg.AddIngressRule(Peer.AnyIpv4(), Port.Tcp(443), "HTTPS from clients");
        var gatewaySg = new SecurityGroup(this, "GatewaySg", new SecurityGroupProps { Vpc = vpc, Description = "FinCore gateway tasks" });
        var siloSg = new SecurityGroup(this, "SiloSg", new SecurityGroupProps { Vpc = vpc, Description = "FinCore silo tasks" });
        var dbSg = new SecurityGroup(this, "DatabaseSg", new SecurityGroupProps { Vpc = vpc, Description = "FinCore PostgreSQL", AllowAllOutbound = false });
        var loadGenSg = new SecurityGroup(this, "LoadGenSg", new SecurityGroupProps { Vpc = vpc, Description = "FinCore LoadGen task" });
        albSg.AddEgressRule(gatewaySg, Port.Tcp(GatewayPort), "to gateway tasks");
        gatewaySg.AddIngressRule(albSg, Port.Tcp(GatewayPort), "API from the ALB");
        siloSg.AddIngressRule(siloSg, Port.Tcp(SiloPort), "grain calls between silos");
        siloSg.AddIngressRule(gatewaySg, Port.Tcp(SiloGatewayPort), "grain calls from gateways (Orleans clients)");
        siloSg.AddIngressRule(gatewaySg, Port.Tcp(SiloHttpPort), "health and metrics for the gateway's cluster view");
        dbSg.AddIngressRule(gatewaySg, Port.Tcp(PostgresPort), "gateway");
        dbSg.AddIngressRule(siloSg, Port.Tcp(PostgresPort), "silos");

        // Secrets: generated in Secrets Manager, injected into tasks, never in the template.
        var adminToken = new Secret(this, "OperatorToken", new SecretProps
        {
            Description = "FinCore operator token (FINCORE_ADMIN_TOKEN)",
            GenerateSecretString = new SecretStringGenerator { PasswordLength = 48, ExcludePunctuation = true },
        });
        // The cluster certificate (TLS between silos, and between gateways and silos; nothing without it can call a grain).
        // Secrets Manager cannot make one: put it there once, base64 of the PKCS#12 file that
        // `dotnet FinCore.Silo.dll --make-cluster-cert cluster.pfx` writes (ops/README.md, "Deploy to ECS").
        var clusterCertificate = new Secret(this, "ClusterCertificate", new SecretProps
        {
            Description = "FinCore cluster certificate (FINCORE_CLUSTER_CERT_PFX): base64 of a PKCS#12 file with its key",
        });
        // The master key that wraps every tenant's personal-data keys (FINCORE_MASTER_KEY): generated, and stored under a
        // KMS key of its own (rotated yearly by KMS), readable only by the tasks that are given it.
        var personalDataKey = new Amazon.CDK.AWS.KMS.Key(this, "PersonalDataKey", new Amazon.CDK.AWS.KMS.KeyProps
        {
            Description = "FinCore: encrypts the master key of customers' personal data",
            EnableKeyRotation = true,
            RemovalPolicy = RemovalPolicy.RETAIN,
        });
        var masterKey = new Secret(this, "MasterKey", new SecretProps
        {
            Description = "FinCore master key of customers' personal data (FINCORE_MASTER_KEY): lose it and that data is gone",
            EncryptionKey = personalDataKey,
            GenerateSecretString = new SecretStringGenerator { PasswordLength = 64, ExcludePunctuation = true },
            RemovalPolicy = RemovalPolicy.RETAIN,
        });
        // Email goes out through SES's SMTP endpoint (port 587, STARTTLS). Its SMTP credentials come from an IAM user
        // and cannot be generated here: put the URL in once, smtp://<SMTP user>:<SMTP password>@email-smtp.<region>.amazonaws.com:587
        // (ops/README.md, "Deploy to ECS"). Only the silos send, so only they are given it.
        var smtpUrl = new Secret(this, "SmtpUrl", new SecretProps
        {
            Description = "SES SMTP endpoint with its credentials (FINCORE_SMTP_URL): smtp://user:password@email-smtp.<region>.amazonaws.com:587",
        });
        var pspSecret = new Secret(this, "PspSecret", new SecretProps
        {
            Description = "Shared secret of the PSP's signed callbacks (FINCORE_PSP_SECRET)",
            GenerateSecretString = new SecretStringGenerator { PasswordLength = 48, ExcludePunctuation = true },
        });

        var database = new DatabaseInstance(this, "Database", new DatabaseInstanceProps
        {
            Engine = DatabaseInstanceEngine.Postgres(new PostgresInstanceEngineProps { Version = PostgresEngineVersion.VER_15 }),
            InstanceType = Amazon.CDK.AWS.EC2.InstanceType.Of(Enum.Parse<InstanceClass>(sizes.DatabaseInstanceClass, ignoreCase: true), Enum.Parse<InstanceSize>(sizes.DatabaseInstanceSize, ignoreCase: true)),
            Vpc = vpc,
            VpcSubnets = new SubnetSelection { SubnetType = SubnetType.PRIVATE_ISOLATED },
            SecurityGroups = [dbSg],
            MultiAz = true,
            AllocatedStorage = sizes.DatabaseStorageGiB,
            StorageEncrypted = true,
            DatabaseName = "fincore",
            Credentials = Credentials.FromGeneratedSecret("fincore"),
            BackupRetention = Duration.Days(7),
            DeletionProtection = true,
            RemovalPolicy = RemovalPolicy.SNAPSHOT,
        });
        var postgres = $"Host={database.DbInstanceEndpointAddress};Port={PostgresPort};Username=fincore;Database=fincore;SSL Mode=Require";

        var cluster = new Cluster(this, "Cluster", new ClusterProps
        {
            Vpc = vpc,
            ContainerInsights = true,
            DefaultCloudMapNamespace = new CloudMapNamespaceOptions { Name = "fincore.internal", Type = NamespaceType.DNS_PRIVATE, Vpc = vpc },
        });
        var logs = new LogGroup(this, "Logs", new LogGroupProps { Retention = RetentionDays.ONE_MONTH, RemovalPolicy = RemovalPolicy.DESTROY });

        Repository Repo(string name) => new(this, name + "Repository", new RepositoryProps { ImageScanOnPush = true, RemovalPolicy = RemovalPolicy.RETAIN });
        var gatewayImage = ContainerImage.FromEcrRepository(Repo("Gateway"), imageTag);
        var siloImage = ContainerImage.FromEcrRepository(Repo("Silo"), imageTag);
        var loadGenImage = ContainerImage.FromEcrRepository(Repo("LoadGen"), imageTag);

        var common = new Dictionary<string, string>
        {
            ["FINCORE_CLUSTER_ID"] = "fincore",
            ["FINCORE_POSTGRES"] = postgres,
            ["FINCORE_LOG_FORMAT"] = "json",
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://localhost:4317",
        };
        var commonSecrets = new Dictionary<string, Amazon.CDK.AWS.ECS.Secret>
        {
            ["FINCORE_CLUSTER_CERT_PFX"] = Amazon.CDK.AWS.ECS.Secret.FromSecretsManager(clusterCertificate),
            ["FINCORE_MASTER_KEY"] = Amazon.CDK.AWS.ECS.Secret.FromSecretsManager(masterKey),
            ["PGPASSWORD"] = Amazon.CDK.AWS.ECS.Secret.FromSecretsManager(database.Secret!, "password"),
        };

        // Silos.
        var siloTask = new FargateTaskDefinition(this, "SiloTask", new FargateTaskDefinitionProps { Cpu = sizes.SiloCpu, MemoryLimitMiB = sizes.SiloMemoryMiB });
        var silo = siloTask.AddContainer("silo", new ContainerDefinitionOptions
        {
            Image = siloImage,
            Essential = true,
            Environment = new Dictionary<string, string>(common)
            {
                ["FINCORE_SILO_PORT"] = SiloPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["FINCORE_HTTP_PORT"] = SiloHttpPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["FINCORE_GATEWAY_PORT"] = SiloGatewayPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["FINCORE_SILO_LISTEN_ADDRESS"] = "0.0.0.0",
                ["FINCORE_PSP_URL"] = pspUrl,
                ["FINCORE_MAIL_FROM"] = mailFrom,
                ["OTEL_SERVICE_NAME"] = "fincore-silo",
            },
            Secrets = new Dictionary<string, Amazon.CDK.AWS.ECS.Secret>(commonSecrets)
            {
                ["FINCORE_SMTP_URL"] = Amazon.CDK.AWS.ECS.Secret.FromSecretsManager(smtpUrl),
            },
            PortMappings = [new PortMapping { ContainerPort = SiloPort, Protocol = Protocol.TCP }, new PortMapping { ContainerPort = SiloGatewayPort, Protocol = Protocol.TCP },
                new PortMapping { ContainerPort = SiloHttpPort, Protocol = Protocol.TCP }],
            HealthCheck = new EcsHealthCheck { Command = ["CMD-SHELL", $"curl -fsS http://localhost:{SiloHttpPort}/health/live || exit 1"], StartPeriod = Duration.Seconds(30) },
            StopTimeout = SiloStopTimeout,
            Logging = LogDriver.AwsLogs(new AwsLogDriverProps { LogGroup = logs, StreamPrefix = "silo" }),
        });
        AddCollector(siloTask, logs);
        Service("SiloService", cluster, siloTask, siloSg, appSubnets, sizes.SiloMin, sizes.SiloMax, new CloudMapOptions { Name = "silo", DnsRecordType = DnsRecordType.A });

        // Gateways behind the ALB.
        var gatewayTask = new FargateTaskDefinition(this, "GatewayTask", new FargateTaskDefinitionProps { Cpu = sizes.GatewayCpu, MemoryLimitMiB = sizes.GatewayMemoryMiB });
        gatewayTask.AddContainer("gateway", new ContainerDefinitionOptions
        {
            Image = gatewayImage,
            Essential = true,
            Environment = new Dictionary<string, string>(common)
            {
                ["FINCORE_HTTP_PORT"] = GatewayPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["FINCORE_LISTEN_ADDRESS"] = "0.0.0.0",
                ["OTEL_SERVICE_NAME"] = "fincore-gateway",
            },
            Secrets = new Dictionary<string, Amazon.CDK.AWS.ECS.Secret>(commonSecrets)
            {
                ["FINCORE_ADMIN_TOKEN"] = Amazon.CDK.AWS.ECS.Secret.FromSecretsManager(adminToken),
                ["FINCORE_PSP_SECRET"] = Amazon.CDK.AWS.ECS.Secret.FromSecretsManager(pspSecret),
            },
            PortMappings = [new PortMapping { ContainerPort = GatewayPort, Protocol = Protocol.TCP }],
            StopTimeout = Duration.Seconds(30),
            Logging = LogDriver.AwsLogs(new AwsLogDriverProps { LogGroup = logs, StreamPrefix = "gateway" }),
        });
        AddCollector(gatewayTask, logs);
        var gatewayService = Service("GatewayService", cluster, gatewayTask, gatewaySg, appSubnets, sizes.GatewayMin, sizes.GatewayMax, cloudMap: null);

        var alb = new ApplicationLoadBalancer(this, "Alb", new ApplicationLoadBalancerProps { Vpc = vpc, InternetFacing = true, SecurityGroup = albSg });
        var listener = alb.AddListener("Http", new BaseApplicationListenerProps { Port = 80, Open = false });
        var targets = listener.AddTargets("Gateways", new AddApplicationTargetsProps
        {
            Port = GatewayPort,
            Protocol = ApplicationProtocol.HTTP,
            Targets = [gatewayService],
            HealthCheck = new Amazon.CDK.AWS.ElasticLoadBalancingV2.HealthCheck { Path = "/health/ready", HealthyHttpCodes = "200", Interval = Duration.Seconds(10) },
            DeregistrationDelay = Duration.Seconds(30),
        });

        // LoadGen: a task definition only, run on demand inside the region (aws ecs run-task …).
        var loadGenTask = new FargateTaskDefinition(this, "LoadGenTask", new FargateTaskDefinitionProps { Cpu = sizes.LoadGenCpu, MemoryLimitMiB = sizes.LoadGenMemoryMiB });
        loadGenTask.AddContainer("loadgen", new ContainerDefinitionOptions
        {
            Image = loadGenImage,
            Essential = true,
            Command = ["run", "--target", $"http://{alb.LoadBalancerDnsName}", "--profile", "baseline", "--out", "/reports"],
            Secrets = new Dictionary<string, Amazon.CDK.AWS.ECS.Secret> { ["LOADGEN_ADMIN_TOKEN"] = Amazon.CDK.AWS.ECS.Secret.FromSecretsManager(adminToken) },
            Logging = LogDriver.AwsLogs(new AwsLogDriverProps { LogGroup = logs, StreamPrefix = "loadgen" }),
        });
        albSg.AddIngressRule(loadGenSg, Port.Tcp(80), "LoadGen in the VPC");

        // LoadGen agents: tasks that wait for the LoadGen task above to coordinate them (run … --agents
        // dns:loadgen-agent.fincore.internal:7700). They take work only from the LoadGen task's group, with the
        // shared token from Secrets Manager, and send only to the target it gives them.
        var agentToken = new Secret(this, "LoadGenAgentToken", new SecretProps
        {
            Description = "Shared token of the LoadGen agents and their coordinator (LOADGEN_AGENT_TOKEN)",
            GenerateSecretString = new SecretStringGenerator { PasswordLength = 48, ExcludePunctuation = true },
        });
        var agentSg = new SecurityGroup(this, "LoadGenAgentSg", new SecurityGroupProps { Vpc = vpc, Description = "FinCore LoadGen agents" });
        agentSg.AddIngressRule(loadGenSg, Port.Tcp(LoadGenAgentPort), "work from the LoadGen coordinator task");
        albSg.AddIngressRule(agentSg, Port.Tcp(80), "LoadGen agents in the VPC");
        loadGenTask.DefaultContainer!.AddSecret("LOADGEN_AGENT_TOKEN", Amazon.CDK.AWS.ECS.Secret.FromSecretsManager(agentToken));
        var agentTask = new FargateTaskDefinition(this, "LoadGenAgentTask", new FargateTaskDefinitionProps { Cpu = sizes.LoadGenCpu, MemoryLimitMiB = sizes.LoadGenMemoryMiB });
        agentTask.AddContainer("loadgen-agent", new ContainerDefinitionOptions
        {
            Image = loadGenImage,
            Essential = true,
            Command = ["agent", "--listen", $"0.0.0.0:{LoadGenAgentPort}"],
            Secrets = new Dictionary<string, Amazon.CDK.AWS.ECS.Secret> { ["LOADGEN_AGENT_TOKEN"] = Amazon.CDK.AWS.ECS.Secret.FromSecretsManager(agentToken) },
            PortMappings = [new PortMapping { ContainerPort = LoadGenAgentPort, Protocol = Protocol.TCP }],
            Logging = LogDriver.AwsLogs(new AwsLogDriverProps { LogGroup = logs, StreamPrefix = "loadgen-agent" }),
        });
        _ = new FargateService(this, "LoadGenAgentService", new FargateServiceProps
        {
            Cluster = cluster,
            TaskDefinition = agentTask,
            DesiredCount = sizes.LoadGenAgents,
            SecurityGroups = [agentSg],
            VpcSubnets = appSubnets,
            CloudMapOptions = new CloudMapOptions { Name = LoadGenAgentName, DnsRecordType = DnsRecordType.A, DnsTtl = Duration.Seconds(10) },
            CircuitBreaker = new DeploymentCircuitBreaker { Rollback = true },
        });

        // Alarms: what operators are paged for.
        var fiveXxRate = new MathExpression(new MathExpressionProps
        {
            Expression = "100 * errors / MAX([errors, requests])",
            UsingMetrics = new Dictionary<string, IMetric>
            {
                ["errors"] = targets.Metrics.HttpCodeTarget(HttpCodeTarget.TARGET_5XX_COUNT, new MetricOptions { Statistic = "Sum", Period = Duration.Minutes(1) }),
                ["requests"] = targets.Metrics.RequestCount(new MetricOptions { Statistic = "Sum", Period = Duration.Minutes(1) }),
            },
            Label = "5xx % of requests",
        });
        new Alarm(this, "Gateway5xxRate", new AlarmProps
        {
            AlarmDescription = "More than 1% of API requests answered 5xx for 3 minutes",
            Metric = fiveXxRate,
            Threshold = 1,
            EvaluationPeriods = 3,
            ComparisonOperator = ComparisonOperator.GREATER_THAN_THRESHOLD,
            TreatMissingData = TreatMissingData.NOT_BREACHING,
        });
        new Alarm(this, "GatewayP95Latency", new AlarmProps
        {
            AlarmDescription = "p95 API latency above 500 ms for 5 minutes",
            Metric = targets.Metrics.TargetResponseTime(new MetricOptions { Statistic = "p95", Period = Duration.Minutes(1) }),
            Threshold = 0.5,
            EvaluationPeriods = 5,
            ComparisonOperator = ComparisonOperator.GREATER_THAN_THRESHOLD,
            TreatMissingData = TreatMissingData.NOT_BREACHING,
        });
        new Alarm(this, "DeadLetters", new AlarmProps
        {
            AlarmDescription = "Charges are waiting in the dead-letter set: see /admin/v1/dead-letters",
            Metric = new Metric(new MetricProps { Namespace = "FinCore", MetricName = "fincore.dead_letters.size", Statistic = "Maximum", Period = Duration.Minutes(1) }),
            Threshold = 0,
            EvaluationPeriods = 1,
            ComparisonOperator = ComparisonOperator.GREATER_THAN_THRESHOLD,
            TreatMissingData = TreatMissingData.NOT_BREACHING,
        });

        _ = new CfnOutput(this, "ApiUrl", new CfnOutputProps { Value = $"http://{alb.LoadBalancerDnsName}" });
        _ = new CfnOutput(this, "DashboardUrl", new CfnOutputProps { Value = $"http://{alb.LoadBalancerDnsName}/dashboard" });
        _ = new CfnOutput(this, "OperatorTokenSecret", new CfnOutputProps { Value = adminToken.SecretArn });
        _ = new CfnOutput(this, "LoadGenTaskDefinition", new CfnOutputProps { Value = loadGenTask.TaskDefinitionArn });
        _ = new CfnOutput(this, "LoadGenAgentTokenSecret", new CfnOutputProps { Value = agentToken.SecretArn });
        _ = new CfnOutput(this, "LoadGenDistributedRun", new CfnOutputProps
        {
            Description = "A distributed load test from an operator's machine: the LoadGen task coordinates the agent service (edit rate and duration)",
            Value = $"aws ecs run-task --cluster {cluster.ClusterName} --task-definition {loadGenTask.TaskDefinitionArn} --launch-type FARGATE " +
                $"--network-configuration 'awsvpcConfiguration={{subnets=[{string.Join(",", vpc.SelectSubnets(appSubnets).SubnetIds)}],securityGroups=[{loadGenSg.SecurityGroupId}]}}' " +
                $"--overrides '{{\"containerOverrides\":[{{\"name\":\"loadgen\",\"environment\":[{{\"name\":\"DOTNET_TieredCompilation\",\"value\":\"0\"}}],\"command\":[\"run\",\"--target\",\"http://{alb.LoadBalancerDnsName}\",\"--rate\",\"1000\",\"--duration\",\"10m\",\"--agents\",\"dns:{LoadGenAgentName}.fincore.internal:{LoadGenAgentPort}\",\"--out\",\"/reports\"]}}]}}'",
        });
        _ = silo;
    }

    /// <summary>The OpenTelemetry collector sidecar: receives OTLP from the app, writes metrics to CloudWatch (namespace FinCore) and traces to X-Ray.</summary>
    private static void AddCollector(FargateTaskDefinition task, LogGroup logs) =>
        task.AddContainer("otel-collector", new ContainerDefinitionOptions
        {
            Image = ContainerImage.FromRegistry("public.ecr.aws/aws-observability/aws-otel-collector:v0.40.0"),
            Essential = false,
            Command = ["--config=/etc/ecs/ecs-cloudwatch-xray.yaml"],
            Environment = new Dictionary<string, string> { ["AWS_EMF_NAMESPACE"] = "FinCore" },
            MemoryReservationMiB = 128,
            Logging = LogDriver.AwsLogs(new AwsLogDriverProps { LogGroup = logs, StreamPrefix = "otel" }),
        });

    /// <summary>A Fargate service that deploys without dropping below its size (rolling back a failing deployment) and scales on CPU.</summary>
    private FargateService Service(string id, Cluster cluster, FargateTaskDefinition task, SecurityGroup sg, SubnetSelection subnets, int min, int max, CloudMapOptions? cloudMap)
    {
        var service = new FargateService(this, id, new FargateServiceProps
        {
            Cluster = cluster,
            TaskDefinition = task,
            DesiredCount = min,
            MinHealthyPercent = 100,
            MaxHealthyPercent = 200,
            SecurityGroups = [sg],
            VpcSubnets = subnets,
            CloudMapOptions = cloudMap,
            CircuitBreaker = new DeploymentCircuitBreaker { Rollback = true },
        });
        Scale(service, min, max);
        return service;
    }

    private static void Scale(FargateService service, int min, int max)
    {
        var scaling = service.AutoScaleTaskCount(new EnableScalingProps { MinCapacity = min, MaxCapacity = max });
        scaling.ScaleOnCpuUtilization("Cpu", new CpuUtilizationScalingProps
        {
            TargetUtilizationPercent = 60,
            ScaleInCooldown = Duration.Minutes(5),
            ScaleOutCooldown = Duration.Seconds(60),
        });
    }
}
