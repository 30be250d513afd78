using System.Text.Json;
using Amazon.CDK;
using Amazon.CDK.Assertions;
using FinCore.Deploy;

namespace FinCore.Tests.Deploy;

/// <summary>The ECS deployment as CloudFormation: synthesised offline (jsii on the machine's Node.js) and inspected.</summary>
public sealed class DeploymentTests(DeploymentTests.Stacks stacks) : IClassFixture<DeploymentTests.Stacks>
{
    public sealed class Stacks
    {
        public Stacks()
        {
            // One app per stack (an app synthesises once); one stack id, so logical ids compare.
            Production = Template.FromStack(new FinCoreStack(new App(), "fincore", StackSizes.Production));
            Staging = Template.FromStack(new FinCoreStack(new App(), "fincore", StackSizes.Staging));
            StagingAtProductionSizes = Template.FromStack(new FinCoreStack(new App(), "fincore", StackSizes.Production));
            Json = JsonDocument.Parse(JsonSerializer.Serialize(Production.ToJSON())).RootElement;
        }

        public Template Production { get; }

        public Template Staging { get; }

        public Template StagingAtProductionSizes { get; }

        public JsonElement Json { get; }
    }

    private IEnumerable<JsonElement> Resources(string type) =>
        stacks.Json.GetProperty("Resources").EnumerateObject().Select(p => p.Value).Where(r => r.GetProperty("Type").GetString() == type);

    private JsonElement Container(string name) =>
        Resources("AWS::ECS::TaskDefinition").SelectMany(t => t.GetProperty("Properties").GetProperty("ContainerDefinitions").EnumerateArray())
            .Single(c => c.GetProperty("Name").GetString() == name);

    private string LogicalIdOf(string type, Func<JsonElement, bool> match) =>
        stacks.Json.GetProperty("Resources").EnumerateObject().Single(p => p.Value.GetProperty("Type").GetString() == type && match(p.Value)).Name;

    [Fact]
    public void Gateway_and_silos_are_fargate_services_on_their_ports_behind_an_alb_with_service_discovery()
    {
        stacks.Production.ResourceCountIs("AWS::ECS::Service", 3); // gateway, silo, LoadGen agents
        stacks.Production.HasResourceProperties("AWS::ECS::Service", new Dictionary<string, object> { ["LaunchType"] = "FARGATE" });
        Assert.Equal([FinCoreStack.GatewayPort], Container("gateway").GetProperty("PortMappings").EnumerateArray().Select(p => p.GetProperty("ContainerPort").GetInt32()));
        Assert.Equal([FinCoreStack.SiloPort, FinCoreStack.SiloGatewayPort, FinCoreStack.SiloHttpPort], Container("silo").GetProperty("PortMappings").EnumerateArray().Select(p => p.GetProperty("ContainerPort").GetInt32()));

        stacks.Production.HasResourceProperties("AWS::ElasticLoadBalancingV2::LoadBalancer", new Dictionary<string, object> { ["Scheme"] = "internet-facing" });
        stacks.Production.HasResourceProperties("AWS::ElasticLoadBalancingV2::Listener", new Dictionary<string, object> { ["Port"] = 80, ["Protocol"] = "HTTP" });
        stacks.Production.HasResourceProperties("AWS::ElasticLoadBalancingV2::TargetGroup", new Dictionary<string, object>
        {
            ["Port"] = FinCoreStack.GatewayPort, ["HealthCheckPath"] = "/health/ready", ["TargetType"] = "ip",
        });
        stacks.Production.HasResourceProperties("AWS::ServiceDiscovery::Service", new Dictionary<string, object> { ["Name"] = "silo" });

        // Silos get two minutes to drain on SIGTERM before ECS kills them.
        Assert.Equal(120, Container("silo").GetProperty("StopTimeout").GetInt32());
        Assert.Contains("0.0.0.0", Container("silo").GetProperty("Environment").EnumerateArray().Select(e => e.GetProperty("Value").ToString()));

        // The LoadGen task, for load tests from inside the region.
        Assert.Contains("--target", Container("loadgen").GetProperty("Command").EnumerateArray().Select(e => e.GetString()));
        stacks.Production.ResourceCountIs("AWS::ECS::TaskDefinition", 4);
        stacks.Production.ResourceCountIs("AWS::ApplicationAutoScaling::ScalableTarget", 2);
    }

    [Fact]
    public void Security_groups_let_each_tier_reach_only_the_next()
    {
        var alb = LogicalIdOf("AWS::EC2::SecurityGroup", r => r.GetProperty("Properties").GetProperty("GroupDescription").GetString() == "FinCore ALB");
        var gateway = LogicalIdOf("AWS::EC2::SecurityGroup", r => r.GetProperty("Properties").GetProperty("GroupDescription").GetString() == "FinCore gateway tasks");
        var silo = LogicalIdOf("AWS::EC2::SecurityGroup", r => r.GetProperty("Properties").GetProperty("GroupDescription").GetString() == "FinCore silo tasks");
        var db = LogicalIdOf("AWS::EC2::SecurityGroup", r => r.GetProperty("Properties").GetProperty("GroupDescription").GetString() == "FinCore PostgreSQL");

        // (target group, port, source group) for every group-to-group rule.
        var rules = Resources("AWS::EC2::SecurityGroupIngress").Select(r => r.GetProperty("Properties")).Select(p => (
            Target: p.GetProperty("GroupId").GetProperty("Fn::GetAtt")[0].GetString()!,
            Port: p.GetProperty("FromPort").GetInt32(),
            Source: p.TryGetProperty("SourceSecurityGroupId", out var s) ? s.GetProperty("Fn::GetAtt")[0].GetString()! : "")).ToList();

        Assert.Equal([(gateway, FinCoreStack.GatewayPort, alb)], rules.Where(r => r.Target == gateway));
        Assert.Equal(
            new[] { (silo, FinCoreStack.SiloHttpPort, gateway), (silo, FinCoreStack.SiloGatewayPort, gateway), (silo, FinCoreStack.SiloPort, silo) }.Order().ToList(),
            rules.Where(r => r.Target == silo).Order().ToList());
        Assert.Equal(new[] { (db, FinCoreStack.PostgresPort, gateway), (db, FinCoreStack.PostgresPort, silo) }.Order().ToList(), rules.Where(r => r.Target == db).Order().ToList());

        // Only the ALB is open to the internet.
        var open = Resources("AWS::EC2::SecurityGroup").Where(g => g.GetProperty("Properties").TryGetProperty("SecurityGroupIngress", out var ing)
            && ing.EnumerateArray().Any(i => i.TryGetProperty("CidrIp", out var cidr) && cidr.GetString() == "0.0.0.0/0"));
        Assert.Equal(["FinCore ALB"], open.Select(g => g.GetProperty("Properties").GetProperty("GroupDescription").GetString()));
    }

    [Fact]
    public void Secrets_come_from_secrets_manager_and_the_database_is_multi_az_postgres()
    {
        stacks.Production.ResourceCountIs("AWS::SecretsManager::Secret", 7); // operator token, cluster certificate, master key, SES SMTP, PSP secret, database, LoadGen agents
        var gatewaySecrets = Container("gateway").GetProperty("Secrets").EnumerateArray().Select(s => s.GetProperty("Name").GetString()).ToList();
        Assert.Equal(["FINCORE_ADMIN_TOKEN", "FINCORE_CLUSTER_CERT_PFX", "FINCORE_MASTER_KEY", "FINCORE_PSP_SECRET", "PGPASSWORD"], gatewaySecrets.Order(StringComparer.Ordinal));
        Assert.Contains("FINCORE_CLUSTER_CERT_PFX", Container("silo").GetProperty("Secrets").EnumerateArray().Select(s => s.GetProperty("Name").GetString()));
        Assert.Contains("FINCORE_MASTER_KEY", Container("silo").GetProperty("Secrets").EnumerateArray().Select(s => s.GetProperty("Name").GetString()));
        Assert.Contains("FINCORE_SMTP_URL", Container("silo").GetProperty("Secrets").EnumerateArray().Select(s => s.GetProperty("Name").GetString()));
        stacks.Production.HasResourceProperties("AWS::KMS::Key", new Dictionary<string, object> { ["EnableKeyRotation"] = true });
        foreach (var name in new[] { "gateway", "silo" })
        {
            var env = Container(name).GetProperty("Environment").EnumerateArray().Select(e => e.GetProperty("Name").GetString()).ToList();
            Assert.DoesNotContain("FINCORE_ADMIN_TOKEN", env);
            Assert.DoesNotContain("FINCORE_CLUSTER_CERT_PFX", env);
            Assert.DoesNotContain("FINCORE_MASTER_KEY", env);
            Assert.DoesNotContain("PGPASSWORD", env);
        }

        stacks.Production.HasResourceProperties("AWS::RDS::DBInstance", new Dictionary<string, object>
        {
            ["Engine"] = "postgres", ["MultiAZ"] = true, ["StorageEncrypted"] = true, ["DeletionProtection"] = true,
        });
    }

    [Fact]
    public void Alarms_watch_the_5xx_rate_p95_latency_and_dead_letters()
    {
        stacks.Production.ResourceCountIs("AWS::CloudWatch::Alarm", 3);
        stacks.Production.HasResourceProperties("AWS::CloudWatch::Alarm", new Dictionary<string, object>
        {
            ["MetricName"] = "TargetResponseTime", ["ExtendedStatistic"] = "p95", ["Threshold"] = 0.5,
        });
        stacks.Production.HasResourceProperties("AWS::CloudWatch::Alarm", new Dictionary<string, object>
        {
            ["MetricName"] = "fincore.dead_letters.size", ["Namespace"] = "FinCore", ["Threshold"] = 0,
        });
        var rate = Resources("AWS::CloudWatch::Alarm").Single(a => a.GetProperty("Properties").TryGetProperty("Metrics", out _));
        var metrics = rate.GetProperty("Properties").GetProperty("Metrics").ToString();
        Assert.Contains("HTTPCode_Target_5XX_Count", metrics, StringComparison.Ordinal);
        Assert.Contains("RequestCount", metrics, StringComparison.Ordinal);
        Assert.Equal(1, rate.GetProperty("Properties").GetProperty("Threshold").GetDouble());
    }

    [Fact]
    public void LoadGen_agents_are_a_fargate_service_named_in_cloud_map_that_only_the_loadgen_task_reaches()
    {
        var agent = Container("loadgen-agent");
        Assert.Equal(["agent", "--listen", $"0.0.0.0:{FinCoreStack.LoadGenAgentPort}"], agent.GetProperty("Command").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal([FinCoreStack.LoadGenAgentPort], agent.GetProperty("PortMappings").EnumerateArray().Select(p => p.GetProperty("ContainerPort").GetInt32()));
        Assert.Equal(["LOADGEN_AGENT_TOKEN"], agent.GetProperty("Secrets").EnumerateArray().Select(s => s.GetProperty("Name").GetString()));
        Assert.Contains("LOADGEN_AGENT_TOKEN", Container("loadgen").GetProperty("Secrets").EnumerateArray().Select(s => s.GetProperty("Name").GetString()));
        stacks.Production.HasResourceProperties("AWS::ServiceDiscovery::Service", new Dictionary<string, object> { ["Name"] = FinCoreStack.LoadGenAgentName });

        // None in production, four tasks in staging.
        var desired = (Template t) => JsonDocument.Parse(JsonSerializer.Serialize(t.ToJSON())).RootElement.GetProperty("Resources").EnumerateObject()
            .Where(r => r.Value.GetProperty("Type").GetString() == "AWS::ECS::Service" && r.Name.StartsWith("LoadGenAgentService", StringComparison.Ordinal))
            .Select(r => r.Value.GetProperty("Properties").GetProperty("DesiredCount").GetInt32()).Single();
        Assert.Equal(0, desired(stacks.Production));
        Assert.Equal(4, desired(stacks.Staging));

        // The agents take work only from the LoadGen task's group, and reach the ALB.
        string Group(string description) => LogicalIdOf("AWS::EC2::SecurityGroup", r => r.GetProperty("Properties").GetProperty("GroupDescription").GetString() == description);
        var agents = Group("FinCore LoadGen agents");
        var ingress = Resources("AWS::EC2::SecurityGroupIngress").Select(r => r.GetProperty("Properties"))
            .Where(p => p.GetProperty("GroupId").GetProperty("Fn::GetAtt")[0].GetString() == agents)
            .Select(p => (p.GetProperty("FromPort").GetInt32(), p.GetProperty("SourceSecurityGroupId").GetProperty("Fn::GetAtt")[0].GetString())).ToList();
        Assert.Equal([(FinCoreStack.LoadGenAgentPort, Group("FinCore LoadGen task"))], ingress);
        var outputs = stacks.Json.GetProperty("Outputs");
        Assert.Contains("--agents", outputs.GetProperty("LoadGenDistributedRun").ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Staging_is_production_but_for_sizes()
    {
        // The template is a function of the sizes alone: the staging code path with production's sizes is production.
        Assert.Equal(JsonSerializer.Serialize(stacks.Production.ToJSON()), JsonSerializer.Serialize(stacks.StagingAtProductionSizes.ToJSON()));

        // And staging's own template differs from production's only where sizes go.
        var differences = new List<string>();
        Diff(stacks.Json, JsonDocument.Parse(JsonSerializer.Serialize(stacks.Staging.ToJSON())).RootElement, "", differences);
        Assert.NotEmpty(differences);
        // Sizes, and which NAT gateway the second private subnet routes through (staging has one).
        string[] sizes = ["Cpu", "Memory", "DesiredCount", "MinCapacity", "MaxCapacity", "DBInstanceClass", "AllocatedStorage", "NatGatewayId"];
        var unexpected = differences.Where(d => !d.Split('/').Any(sizes.Contains) && !d.Contains("Subnet2NATGateway", StringComparison.Ordinal) && !d.Contains("Subnet2EIP", StringComparison.Ordinal)).ToList();
        Assert.True(unexpected.Count == 0, "differences that are not sizes:\n" + string.Join("\n", unexpected));
        stacks.Staging.HasResourceProperties("AWS::RDS::DBInstance", new Dictionary<string, object> { ["DBInstanceClass"] = "db.t4g.medium", ["MultiAZ"] = true });
        stacks.Staging.ResourceCountIs("AWS::EC2::NatGateway", 1);
        stacks.Production.ResourceCountIs("AWS::EC2::NatGateway", 2);
    }

    private static void Diff(JsonElement a, JsonElement b, string path, List<string> differences)
    {
        if (a.ValueKind == JsonValueKind.Object && b.ValueKind == JsonValueKind.Object)
        {
            var keys = a.EnumerateObject().Select(p => p.Name).Union(b.EnumerateObject().Select(p => p.Name));
            foreach (var k in keys)
            {
                if (a.TryGetProperty(k, out var x) && b.TryGetProperty(k, out var y))
                {
                    Diff(x, y, path + "/" + k, differences);
                }
                else
                {
                    differences.Add(path + "/" + k);
                }
            }
        }
        else if (a.ValueKind == JsonValueKind.Array && b.ValueKind == JsonValueKind.Array && a.GetArrayLength() == b.GetArrayLength())
        {
            for (var i = 0; i < a.GetArrayLength(); i++)
            {
                Diff(a[i], b[i], path, differences);
            }
        }
        else if (a.GetRawText() != b.GetRawText())
        {
            differences.Add(path);
        }
    }
}
