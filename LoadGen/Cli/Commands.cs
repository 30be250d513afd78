using System.CommandLine;
using FinCore.LoadGen.Agents;
using FinCore.LoadGen.Engine;
using FinCore.LoadGen.Metrics;
using FinCore.LoadGen.Plans;
using FinCore.LoadGen.Reports;
using FinCore.LoadGen.Thresholds;
using FinCore.LoadGen.Workloads;

namespace FinCore.LoadGen.Cli;

/// <summary>The command line: <c>run</c> (a plan, a profile or a constant rate) and <c>stress</c> (find the breaking point).</summary>
internal static class Commands
{
    private static readonly Option<string> Target = new("--target") { Description = "Base URL of the FinCore gateway, e.g. http://127.0.0.1:55401", Required = true };
    private static readonly Option<string?> ApiKey = new("--api-key") { Description = "A tenant API key (fc_sk_…): all traffic as that tenant" };
    private static readonly Option<string?> AdminToken = new("--admin-token") { Description = "The operator token: LoadGen creates --tenants tenants and spreads traffic over them" };
    private static readonly Option<int> Tenants = new("--tenants") { Description = "Tenants to create with --admin-token", DefaultValueFactory = _ => 20 };
    private static readonly Option<string> Out = new("--out") { Description = "Directory for report.json, timeline.csv and report.html", DefaultValueFactory = _ => "loadgen-report" };
    private static readonly Option<double?> Rate = new("--rate") { Description = "Constant arrival rate (requests/s), with --duration" };
    private static readonly Option<string?> Duration = new("--duration") { Description = "Run length with --rate, e.g. 60s, 10m" };
    private static readonly Option<string?> PlanFile = new("--plan") { Description = "A plan file: phases of constant rates, linear ramps and pauses (see LoadGen/README.md)" };
    private static readonly Option<string?> Profile = new("--profile") { Description = "A named plan: baseline, soak, peak, stress or seed" };
    private static readonly Option<double> Scale = new("--scale") { Description = "Multiply every phase's duration (e.g. 0.05 for a short seed run); rates unchanged", DefaultValueFactory = _ => 1.0 };
    private static readonly Option<string> MixOption = new("--mix") { Description = "Operation weights: create, get, list, cancel, ping", DefaultValueFactory = _ => "create=80,get=20" };
    private static readonly Option<int> Connections = new("--connections") { Description = "TCP connections to the target", DefaultValueFactory = _ => 64 };
    private static readonly Option<int?> Concurrency = new("--concurrency") { Description = "Requests in flight at most (default: connections for HTTP/1.1, 100 per connection for HTTP/2)" };
    private static readonly Option<bool> Http2 = new("--http2") { Description = "HTTP/2 (prior knowledge on http://), streams multiplexed per connection" };
    private static readonly Option<string> Warmup = new("--warmup") { Description = "Warm-up at the first phase's rate before measuring, e.g. 10s", DefaultValueFactory = _ => "0s" };
    private static readonly Option<string[]> ThresholdOption = new("--threshold") { Description = "Pass/fail rule, repeatable: p95<200ms, errors<0.1%, dropped<0.1%, rps>=900, completion_p99<1s", AllowMultipleArgumentsPerToken = false };
    private static readonly Option<bool> AbortOnFail = new("--abort-on-fail") { Description = "Stop the run as soon as a threshold fails (after --abort-grace)" };
    private static readonly Option<string> AbortGrace = new("--abort-grace") { Description = "Measured time before --abort-on-fail may stop the run", DefaultValueFactory = _ => "5s" };
    private static readonly Option<string?> WebhookSinkOption = new("--webhook-sink") { Description = "Serve every tenant's webhook on this address (e.g. 127.0.0.1, reachable from the silos) and report delivery lag", Arity = ArgumentArity.ZeroOrOne };
    private static readonly Option<string> WebhookLatency = new("--webhook-latency") { Description = "The webhook sink answers each delivery after this long, e.g. 50ms", DefaultValueFactory = _ => "0ms" };
    private static readonly Option<string?> MailSinkOption = new("--mail-sink") { Description = "Be the SMTP server the silos send to (host:port; their FINCORE_SMTP_URL must name it) and report email lag" };
    private static readonly Option<int> PushStreams = new("--push-streams") { Description = "With transfers in the mix: hold N customers' notification streams open (a session token each) and report push lag", DefaultValueFactory = _ => 0 };
    private static readonly Option<bool> TrackCompletion = new("--track-completion") { Description = "Follow each 202 to its terminal status and report 202 → terminal latency" };
    private static readonly Option<string> PollInterval = new("--poll-interval") { Description = "How often --track-completion reads a pending charge", DefaultValueFactory = _ => "1s" };
    private static readonly Option<string> CompletionTimeout = new("--completion-timeout") { Description = "How long after the last arrival to wait for charges to become terminal", DefaultValueFactory = _ => "60s" };
    private static readonly Option<string> Timeout = new("--timeout") { Description = "Per-request timeout", DefaultValueFactory = _ => "30s" };
    private static readonly Option<string> DropAfter = new("--drop-after") { Description = "Drop (and count) an arrival not sent this long after its intended time", DefaultValueFactory = _ => "5s" };
    private static readonly Option<int> Accounts = new("--accounts") { Description = "With transfers in the mix: accounts per tenant to pay from (each funded by a charge before the run)", DefaultValueFactory = _ => 100 };
    private static readonly Option<double> HotShare = new("--hot-share") { Description = "With transfers in the mix: the share paid to each tenant's one merchant account (0–1)", DefaultValueFactory = _ => 0.2 };
    private static readonly Option<string> PingPath = new("--ping-path") { Description = "Path the 'ping' operation GETs", DefaultValueFactory = _ => "/health/live" };
    private static readonly Option<bool> Quiet = new("--quiet") { Description = "No live progress" };
    private static readonly Option<string?> Otlp = new("--otlp") { Description = "Push the run's metrics (rate, latency histogram, errors per second) with OpenTelemetry OTLP to this URL, e.g. http://collector:4318" };
    private static readonly Option<bool> OtlpGrpc = new("--otlp-grpc") { Description = "OTLP over gRPC (e.g. http://collector:4317) instead of http/protobuf" };
    private static readonly Option<string?> RecordAccepted = new("--record-accepted") { Description = "Write 'tenant_id,id' of every acknowledged charge (202), transfer (201) and refund (202) to this file" };

    private static readonly Option<string?> AgentsOption = new("--agents") { Description = "Coordinate agents instead of sending: host:port,host:port (with --agent-token) or N local agent processes" };
    private static readonly Option<string?> AgentToken = new("--agent-token") { Description = "The agents' shared token (default: $LOADGEN_AGENT_TOKEN)" };
    private static readonly Option<bool> TolerateAgentLoss = new("--tolerate-agent-loss") { Description = "A lost agent is reported but does not fail the run" };
    private static readonly Option<string> AgentTimeout = new("--agent-timeout") { Description = "An agent that does not answer for this long is lost", DefaultValueFactory = _ => "5s" };

    private static readonly Option<string> Listen = new("--listen") { Description = "Address the agent listens on, host:port (port 0: any free port)", DefaultValueFactory = _ => "127.0.0.1:7700" };
    private static readonly Option<string?> Token = new("--token") { Description = "The shared token a coordinator must present (default: $LOADGEN_AGENT_TOKEN)" };
    private static readonly Option<string?> DumpLatencies = new("--dump-latencies") { Description = "Test only: write every measured latency (µs, int64) to this file", Hidden = true };

    private static readonly Option<double> StartRate = new("--start-rate") { Description = "First step's rate", DefaultValueFactory = _ => 100 };
    private static readonly Option<double> StepRate = new("--step") { Description = "Rate added per step", DefaultValueFactory = _ => 100 };
    private static readonly Option<double> StepFactor = new("--step-factor") { Description = "Multiply the rate per step instead (e.g. 1.25); overrides --step", DefaultValueFactory = _ => 0 };
    private static readonly Option<string> StepDuration = new("--step-duration") { Description = "Length of each step", DefaultValueFactory = _ => "30s" };
    private static readonly Option<double> MaxRate = new("--max-rate") { Description = "Stop stepping at this rate", DefaultValueFactory = _ => 20_000 };
    private static readonly Option<double> MinRate = new("--min-rate") { Description = "Exit non-zero unless the SLOs held at least at this rate", DefaultValueFactory = _ => 0 };

    public static RootCommand Build()
    {
        var run = new Command("run", "Drive an open-model load (constant rate, plan or profile) and report.");
        foreach (var o in Common())
        {
            run.Options.Add(o);
        }

        foreach (Option o in new Option[] { Rate, Duration, PlanFile, Profile, Scale, AbortOnFail, AbortGrace, AgentsOption, AgentToken, TolerateAgentLoss, AgentTimeout })
        {
            run.Options.Add(o);
        }

        run.SetAction((parse, _) => Execute(parse, stress: false));

        var stress = new Command("stress", "Step the rate up until an SLO (--threshold) fails; report the highest rate at which they all held.");
        foreach (var o in Common())
        {
            stress.Options.Add(o);
        }

        foreach (Option o in new Option[] { StartRate, StepRate, StepFactor, StepDuration, MaxRate, MinRate, AgentsOption, AgentToken, TolerateAgentLoss, AgentTimeout })
        {
            stress.Options.Add(o);
        }

        stress.SetAction((parse, _) => Execute(parse, stress: true));

        var agent = new Command("agent", "Wait for a coordinator's work (run … --agents): HTTP on --listen, every request must carry --token.")
        {
            Listen, Token, DumpLatencies,
        };
        agent.SetAction((parse, _) => Agent(parse));

        return new RootCommand("FinCore LoadGen: open-model load against the FinCore HTTP API, coordinated-omission-correct.") { run, stress, CompareCommand.Build(), agent };
    }

    private static Option[] Common() =>
    [
        Target, ApiKey, AdminToken, Tenants, Out, MixOption, Connections, Concurrency, Http2, Warmup, ThresholdOption,
        TrackCompletion, PollInterval, CompletionTimeout, WebhookSinkOption, WebhookLatency, PushStreams, MailSinkOption, Timeout, DropAfter, PingPath, Accounts, HotShare, Quiet, RecordAccepted, Otlp, OtlpGrpc,
    ];

    private static async Task<int> Execute(ParseResult parse, bool stress)
    {
        RunSettings settings;
        IReadOnlyList<Threshold> slos = [];
        try
        {
            settings = Settings(parse, stress);
            if (stress)
            {
                slos = settings.Thresholds.Count > 0 ? settings.Thresholds : [Threshold.Parse("p99<500ms"), Threshold.Parse("errors<1%")];
                slos = [.. slos, Threshold.Parse("dropped<1%")];
                settings = settings with { Thresholds = [], Command = "stress" };
            }
        }
        catch (FormatException e)
        {
            Console.Error.WriteLine("loadgen: " + e.Message);
            return Runner.UsageError;
        }

        if (!stress)
        {
            return parse.GetValue(AgentsOption) is { } agents
                ? await Coordinate(parse, settings, agents).ConfigureAwait(false)
                : await Runner.RunAsync(settings).ConfigureAwait(false);
        }

        // Each step is judged on its own figures; the first failing step ends the run.
        double? highest = null;
        double? brokeAt = null;
        string? reason = null;
        string? Gate(Segment segment, Totals totals)
        {
            var seconds = Clock.Seconds(segment.EndTimestamp - segment.StartTimestamp);
            var failed = ReportBuilder.Judge(slos, totals, seconds);
            Console.Error.WriteLine($"step {segment.Phase.Rate:0}/s: {(failed is null ? "SLOs held" : "FAILED " + failed)}");
            if (failed is null)
            {
                highest = segment.Phase.Rate;
                return null;
            }

            brokeAt = segment.Phase.Rate;
            reason = failed;
            return $"step {segment.Phase.Rate:0}/s: {failed}";
        }

        var minRate = parse.GetValue(MinRate);
        Breaking Found() => new(highest ?? 0, brokeAt, reason ?? "every step held up to --max-rate");
        var code = parse.GetValue(AgentsOption) is { } agentSpec
            ? await Coordinate(parse, settings, agentSpec, Gate, Found).ConfigureAwait(false)
            : await Runner.RunAsync(settings, Gate, _ => Found()).ConfigureAwait(false);
        Console.WriteLine(highest is { } h ? $"highest rate with SLOs ({string.Join(", ", slos.Select(s => s.Expression))}) held: {h:0}/s" : "the SLOs failed at the first step");
        if (code == Runner.Passed && (highest ?? 0) < minRate)
        {
            Console.Error.WriteLine($"below --min-rate {minRate:0}/s");
            return Runner.Failed;
        }

        return code == Runner.UsageError ? code : (highest is null ? Runner.Failed : code);
    }

    private static async Task<int> Agent(ParseResult parse)
    {
        var token = parse.GetValue(Token) ?? Environment.GetEnvironmentVariable("LOADGEN_AGENT_TOKEN");
        var listen = parse.GetValue(Listen)!;
        if (string.IsNullOrEmpty(token) || token.Length < 8)
        {
            Console.Error.WriteLine("loadgen: an agent needs --token T (or $LOADGEN_AGENT_TOKEN), at least 8 characters");
            return Runner.UsageError;
        }

        if (!Uri.TryCreate("http://" + listen, UriKind.Absolute, out var uri) || uri.AbsolutePath != "/")
        {
            Console.Error.WriteLine($"loadgen: --listen '{listen}' is not host:port");
            return Runner.UsageError;
        }

        return await AgentServer.RunAsync(listen, token, parse.GetValue(DumpLatencies)).ConfigureAwait(false);
    }

    private static async Task<int> Coordinate(ParseResult parse, RunSettings settings, string spec, Func<Segment, Totals, string?>? gate = null, Func<Breaking?>? breaking = null)
    {
        TimeSpan timeout;
        try
        {
            timeout = PositiveDuration(parse.GetValue(AgentTimeout)!, "--agent-timeout");
            if (settings.WebhookSink is not null || settings.RecordAccepted is not null || settings.PushStreams > 0 || settings.MailSink is not null)
            {
                throw new FormatException("--webhook-sink, --push-streams, --mail-sink and --record-accepted need a single generator (no --agents)");
            }

        }
        catch (FormatException e)
        {
            Console.Error.WriteLine("loadgen: " + e.Message);
            return Runner.UsageError;
        }

        var tolerate = parse.GetValue(TolerateAgentLoss);
        if (int.TryParse(spec, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n))
        {
            if (n is < 1 or > 64)
            {
                Console.Error.WriteLine("loadgen: --agents N must be 1–64");
                return Runner.UsageError;
            }

            LocalAgents local;
            try
            {
                local = await LocalAgents.StartAsync(n, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception e) when (e is InvalidOperationException or TimeoutException or System.ComponentModel.Win32Exception)
            {
                Console.Error.WriteLine("loadgen: cannot start local agents: " + e.Message);
                return Runner.UsageError;
            }

            using (local)
            {
                var clients = local.Addresses.Select(a => new AgentClient(a, local.Token)).ToList();
                try
                {
                    return await new Coordinator(settings, clients, tolerate, timeout, gate, breaking).RunAsync().ConfigureAwait(false);
                }
                finally
                {
                    clients.ForEach(c => c.Dispose());
                }
            }
        }

        var token = parse.GetValue(AgentToken) ?? Environment.GetEnvironmentVariable("LOADGEN_AGENT_TOKEN");
        var addresses = spec.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var uris = new List<Uri>();
        foreach (var a in addresses)
        {
            // dns:NAME:PORT — one agent per IPv4 address the name has (a Cloud Map service names every task).
            if (a.StartsWith("dns:", StringComparison.Ordinal))
            {
                var colon = a.LastIndexOf(':');
                if (colon <= 4 || !int.TryParse(a[(colon + 1)..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var port))
                {
                    Console.Error.WriteLine($"loadgen: --agents: '{a}' is not dns:NAME:PORT");
                    return Runner.UsageError;
                }

                System.Net.IPAddress[] found;
                try
                {
                    found = await System.Net.Dns.GetHostAddressesAsync(a[4..colon]).ConfigureAwait(false);
                }
                catch (System.Net.Sockets.SocketException e)
                {
                    Console.Error.WriteLine($"loadgen: --agents: cannot resolve {a[4..colon]}: {e.Message}");
                    return Runner.UsageError;
                }

                uris.AddRange(found.Where(ip => ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork).Distinct().Select(ip => new Uri($"http://{ip}:{port}")));
                continue;
            }

            if (!Uri.TryCreate(a.Contains("://", StringComparison.Ordinal) ? a : "http://" + a, UriKind.Absolute, out var u) || u.Scheme is not ("http" or "https"))
            {
                Console.Error.WriteLine($"loadgen: --agents: '{a}' is not host:port");
                return Runner.UsageError;
            }

            uris.Add(u);
        }

        if (uris.Count == 0 || string.IsNullOrEmpty(token))
        {
            Console.Error.WriteLine("loadgen: --agents host:port,… needs --agent-token T (or $LOADGEN_AGENT_TOKEN)");
            return Runner.UsageError;
        }

        var agents = uris.Select(u => new AgentClient(u, token)).ToList();
        try
        {
            return await new Coordinator(settings, agents, tolerate, timeout, gate, breaking).RunAsync().ConfigureAwait(false);
        }
        finally
        {
            agents.ForEach(c => c.Dispose());
        }
    }

    private static RunSettings Settings(ParseResult p, bool stress)
    {
        if (!Uri.TryCreate(p.GetValue(Target), UriKind.Absolute, out var target) || target.Scheme is not ("http" or "https"))
        {
            throw new FormatException("--target must be an http(s) URL");
        }

        var mix = Mix.Parse(p.GetValue(MixOption)!);
        var apiKey = p.GetValue(ApiKey);
        var adminToken = p.GetValue(AdminToken);
        var pingOnly = mix.Weights.Keys.All(op => op == Operation.Ping);
        if (!pingOnly && (apiKey is null) == (adminToken is null))
        {
            throw new FormatException("give either --api-key K or --admin-token T (with --tenants N)");
        }

        var tenants = p.GetValue(Tenants);
        if (tenants is < 1 or > 1000)
        {
            throw new FormatException("--tenants must be 1–1000");
        }

        LoadPlan plan;
        string source;
        if (stress)
        {
            var steps = new List<Phase>();
            var rate = Positive(p.GetValue(StartRate), "--start-rate");
            var factor = p.GetValue(StepFactor);
            var step = p.GetValue(StepRate);
            var max = Positive(p.GetValue(MaxRate), "--max-rate");
            var length = PositiveDuration(p.GetValue(StepDuration)!, "--step-duration");
            if (factor is not 0 and <= 1 || (factor == 0 && step <= 0))
            {
                throw new FormatException("--step must be > 0 (or --step-factor > 1)");
            }

            while (rate <= max && steps.Count < 200)
            {
                steps.Add(Phase.Constant($"{rate:0}/s", rate, length));
                rate = factor > 1 ? Math.Round(rate * factor) : rate + step;
            }

            plan = new LoadPlan(steps);
            source = $"stress {steps[0].Rate:0}→{steps[^1].Rate:0}/s in {steps.Count} steps of {Durations.Format(length)}";
        }
        else
        {
            var rate = p.GetValue(Rate);
            var duration = p.GetValue(Duration);
            var planFile = p.GetValue(PlanFile);
            var profile = p.GetValue(Profile);
            var given = (rate is not null || duration is not null ? 1 : 0) + (planFile is not null ? 1 : 0) + (profile is not null ? 1 : 0);
            if (given != 1)
            {
                throw new FormatException("give exactly one of --rate R --duration D, --plan FILE or --profile NAME");
            }

            if (planFile is not null)
            {
                plan = LoadPlan.FromJson(File.Exists(planFile) ? File.ReadAllText(planFile) : throw new FormatException($"plan file {planFile} not found"));
                source = "plan " + Path.GetFileName(planFile);
            }
            else if (profile is not null)
            {
                plan = Profiles.Get(profile);
                source = "profile " + profile;
            }
            else
            {
                if (rate is null || duration is null)
                {
                    throw new FormatException("--rate and --duration go together");
                }

                plan = LoadPlan.Constant(Positive(rate.Value, "--rate"), PositiveDuration(duration, "--duration"));
                source = $"constant {rate:0.#}/s for {duration}";
            }

            var scale = p.GetValue(Scale);
            if (scale is <= 0 or > 100)
            {
                throw new FormatException("--scale must be in (0, 100]");
            }

            if (scale != 1)
            {
                plan = plan.Scaled(scale);
                source += $" ×{scale:0.###}";
            }
        }

        var connections = p.GetValue(Connections);
        if (connections is < 1 or > 10_000)
        {
            throw new FormatException("--connections must be 1–10000");
        }

        var http2 = p.GetValue(Http2);
        var concurrency = p.GetValue(Concurrency) ?? (http2 ? connections * 100 : connections);
        if (concurrency is < 1 or > 100_000)
        {
            throw new FormatException("--concurrency must be 1–100000");
        }

        return new RunSettings
        {
            Target = target,
            ApiKey = apiKey,
            AdminToken = adminToken,
            Tenants = tenants,
            OutDir = p.GetValue(Out)!,
            Plan = plan,
            PlanSource = source,
            Warmup = Durations.Parse(p.GetValue(Warmup)!),
            Mix = mix,
            Connections = connections,
            Concurrency = concurrency,
            Http2 = http2,
            Thresholds = (p.GetValue(ThresholdOption) ?? []).Select(Threshold.Parse).ToList(),
            AbortOnFail = !stress && p.GetValue(AbortOnFail),
            AbortGrace = stress ? TimeSpan.FromSeconds(5) : Durations.Parse(p.GetValue(AbortGrace)!),
            TrackCompletion = p.GetValue(TrackCompletion),
            PollInterval = PositiveDuration(p.GetValue(PollInterval)!, "--poll-interval"),
            CompletionTimeout = Durations.Parse(p.GetValue(CompletionTimeout)!),
            WebhookSink = p.GetResult(WebhookSinkOption) is null ? null : p.GetValue(WebhookSinkOption) ?? "127.0.0.1",
            WebhookLatency = Durations.Parse(p.GetValue(WebhookLatency)!),
            MailSink = p.GetValue(MailSinkOption),
            PushStreams = p.GetValue(PushStreams) is var streams and >= 0 and <= 100_000
                ? streams is 0 || mix.Weights.ContainsKey(Operation.Transfer) ? streams : throw new FormatException("--push-streams needs transfers in the mix")
                : throw new FormatException("--push-streams must be 0–100000"),
            RequestTimeout = PositiveDuration(p.GetValue(Timeout)!, "--timeout"),
            DropAfter = PositiveDuration(p.GetValue(DropAfter)!, "--drop-after"),
            PingPath = p.GetValue(PingPath)!,
            Accounts = p.GetValue(Accounts) is var accounts and >= 2 and <= 100_000 ? accounts : throw new FormatException("--accounts must be 2–100000"),
            HotShare = p.GetValue(HotShare) is var hot and >= 0 and <= 1 ? hot : throw new FormatException("--hot-share must be 0–1"),
            Quiet = p.GetValue(Quiet),
            Otlp = p.GetValue(Otlp) is { } otlp
                ? Uri.TryCreate(otlp, UriKind.Absolute, out var otlpUri) && otlpUri.Scheme is "http" or "https" ? otlpUri : throw new FormatException("--otlp must be an http(s) URL")
                : null,
            OtlpGrpc = p.GetValue(OtlpGrpc),
            RecordAccepted = p.GetValue(RecordAccepted),
            Command = "run",
        };
    }

    private static double Positive(double value, string name) =>
        value > 0 && double.IsFinite(value) ? value : throw new FormatException($"{name} must be a positive number");

    private static TimeSpan PositiveDuration(string text, string name) =>
        Durations.TryParse(text, out var d) && d > TimeSpan.Zero ? d : throw new FormatException($"{name}: '{text}' is not a positive duration (e.g. 500ms, 30s, 10m)");
}
