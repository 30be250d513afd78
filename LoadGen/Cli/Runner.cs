using System.Runtime.InteropServices;
using FinCore.LoadGen.Engine;
using FinCore.LoadGen.Metrics;
using FinCore.LoadGen.Reports;
using FinCore.LoadGen.Workloads;

namespace FinCore.LoadGen.Cli;

/// <summary>Runs one load test end to end: set up, drive, report, judge. Returns the process exit code.</summary>
internal static class Runner
{
    public const int Passed = 0;
    public const int Failed = 1;
    public const int UsageError = 2;

    public static async Task<int> RunAsync(RunSettings settings, Func<Segment, Totals, string?>? phaseGate = null, Func<LoadEngine, Breaking?>? breaking = null)
    {
        void Log(string message)
        {
            if (!settings.Quiet)
            {
                Console.Error.WriteLine(message);
            }
        }

        using var hardStop = new CancellationTokenSource();
        FinCoreApi api;
        try
        {
            api = await FinCoreApi.ConnectAsync(settings, Log, hardStop.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SetupException or HttpRequestException or TaskCanceledException or System.Text.Json.JsonException)
        {
            Console.Error.WriteLine($"loadgen: cannot set up against {settings.Target}: {e.Message}");
            return UsageError;
        }

        using (api)
        {
            await using var sink = settings.WebhookSink is { } sinkHost ? await WebhookSink.StartAsync(sinkHost, settings.WebhookLatency, hardStop.Token).ConfigureAwait(false) : null;
            if (sink is not null)
            {
                try
                {
                    await sink.SubscribeAsync(settings.Target, api.Tenants, hardStop.Token).ConfigureAwait(false);
                }
                catch (Exception e) when (e is SetupException or HttpRequestException or TaskCanceledException)
                {
                    Console.Error.WriteLine($"loadgen: cannot set the tenants' webhooks: {e.Message}");
                    return UsageError;
                }

                Log($"webhooks of {api.Tenants.Count} tenants → {sink.BaseUrl}/hook/<tenant> (answers after {settings.WebhookLatency.TotalMilliseconds:0} ms)");
            }

            await using var push = settings.PushStreams > 0 ? await OpenStreamsAsync(settings, api, Log, hardStop.Token).ConfigureAwait(false) : null;
            if (settings.PushStreams > 0 && push is null)
            {
                return UsageError;
            }

            MailSink? mail;
            try
            {
                mail = settings.MailSink is { } mailAddress ? MailSink.Start(mailAddress) : null;
            }
            catch (Exception e) when (e is FormatException or System.Net.Sockets.SocketException)
            {
                Console.Error.WriteLine($"loadgen: cannot be the mail server: {e.Message}");
                return UsageError;
            }

            await using var mailSink = mail;
            if (mail is not null)
            {
                Log($"accepting email on smtp://{mail.Endpoint} (the silos' FINCORE_SMTP_URL must name it)");
            }

            var engine = new LoadEngine(settings, api, Log, phaseGate);
            var interrupts = 0;
            void Interrupt(string what)
            {
                if (Interlocked.Increment(ref interrupts) == 1)
                {
                    Console.Error.WriteLine($"{what}: stopping the schedule, finishing requests in flight and writing the report (again to quit at once)");
                    engine.Stop($"interrupted ({what})");
                }
                else
                {
                    hardStop.Cancel();
                }
            }

            Console.CancelKeyPress += (_, e) =>
            {
                e.Cancel = true;
                Interrupt("Ctrl-C");
            };
            using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, ctx =>
            {
                ctx.Cancel = true;
                Interrupt("SIGTERM");
            });

            var startedAt = DateTimeOffset.UtcNow;
            Log($"loadgen {settings.Command}: {settings.Target} · {settings.PlanSource} · {settings.Plan.Duration.TotalSeconds:0}s planned, ~{settings.Plan.ExpectedArrivals:0} arrivals, peak {settings.Plan.PeakRate:0}/s · mix {settings.Mix} · {settings.Connections} connections, HTTP/{(settings.Http2 ? "2" : "1.1")}");
            foreach (var p in settings.Plan.Phases)
            {
                Log("  " + p.Describe());
            }

            RunTimeline timeline;
            var progress = Live.ProgressView.Create(settings.Quiet);
            engine.Progress = progress;
            using var otlp = settings.Otlp is { } otlpUrl ? new OtlpExport(otlpUrl, settings.OtlpGrpc, settings.Target.ToString(), settings.Command) : null;
            if (otlp is not null)
            {
                engine.SecondFinalized = (_, row, slot) => otlp.Second(row, slot);
            }

            try
            {
                timeline = await engine.RunAsync(hardStop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (hardStop.IsCancellationRequested)
            {
                Console.Error.WriteLine("loadgen: stopped without a report");
                return Failed;
            }
            finally
            {
                if (progress is not null)
                {
                    await progress.DisposeAsync().ConfigureAwait(false);
                }
            }

            WebhookFigures? webhooks = null;
            if (sink is not null)
            {
                // Deliveries trail the charges: wait until they stop arriving (or the completion timeout).
                var settling = System.Diagnostics.Stopwatch.StartNew();
                await sink.SettleAsync(TimeSpan.FromSeconds(5), settings.CompletionTimeout, hardStop.Token).ConfigureAwait(false);
                webhooks = new WebhookFigures(sink.Received, sink.Unique, sink.Duplicates, sink.BadSignatures, settling.Elapsed.TotalSeconds, ReportBuilder.PercentilesOf(sink.Lag));
            }

            PushFigures? pushed = null;
            if (push is not null)
            {
                // Each transfer tells its payer and its payee: when every customer has a stream, twice per transfer.
                long? expected = push.Everyone ? 2 * api.TransfersAcknowledged : null;
                var settling = System.Diagnostics.Stopwatch.StartNew();
                await push.Arrivals.SettleAsync(expected, TimeSpan.FromSeconds(5), settings.CompletionTimeout, hardStop.Token).ConfigureAwait(false);
                var a = push.Arrivals;
                pushed = new PushFigures(push.Streams, expected, a.Received, a.Unique, a.Duplicates, push.Reconnects, settling.Elapsed.TotalSeconds,
                    ReportBuilder.PercentilesOf(a.Lag));
            }

            MailFigures? mailed = null;
            if (mail is not null)
            {
                // Each transfer emails its payer and its payee.
                long? expected = settings.Mix.Weights.ContainsKey(Operation.Transfer) ? 2 * api.TransfersAcknowledged : null;
                var settling = System.Diagnostics.Stopwatch.StartNew();
                await mail.Arrivals.SettleAsync(expected, TimeSpan.FromSeconds(5), settings.CompletionTimeout, hardStop.Token).ConfigureAwait(false);
                var a = mail.Arrivals;
                mailed = new MailFigures(expected, a.Received, a.Unique, a.Duplicates, settling.Elapsed.TotalSeconds, ReportBuilder.PercentilesOf(a.Lag));
            }

            var cpu = System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime - timeline.StartCpu;
            var report = ReportBuilder.Build(settings, RunFigures.FromEngine(engine, timeline, cpu), startedAt, breaking?.Invoke(engine)) with
            {
                Webhooks = webhooks,
                Push = pushed,
                Mail = mailed,
            };
            var files = ReportWriter.WriteAll(report, settings.OutDir);
            ConsoleSummary.Print(report, files);
            return report.Passed ? Passed : Failed;
        }
    }

    private static async Task<PushSink?> OpenStreamsAsync(RunSettings settings, FinCoreApi api, Action<string> log, CancellationToken ct)
    {
        try
        {
            var push = await PushSink.StartAsync(settings.Target, api.Tenants, settings.PushStreams, ct).ConfigureAwait(false);
            log($"holding {push.Streams} customers' notification streams open{(push.Everyone ? " (every customer's)" : "")}");
            return push;
        }
        catch (Exception e) when (e is SetupException or HttpRequestException or TaskCanceledException)
        {
            Console.Error.WriteLine($"loadgen: cannot open the notification streams: {e.Message}");
            return null;
        }
    }
}
