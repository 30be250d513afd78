using System.Globalization;
using FinCore.LoadGen.Plans;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace FinCore.LoadGen.Live;

/// <summary>A Spectre.Console live table on standard error, redrawn on each update: rate, latency, errors, agents.</summary>
internal sealed class LiveTable : IProgressView
{
    private readonly TaskCompletionSource done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly SemaphoreSlim changed = new(0);
    private readonly Task loop;
    private ProgressSnapshot? latest;

    public LiveTable()
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        loop = console.Live(new Text("starting…")).AutoClear(false).StartAsync(async ctx =>
        {
            while (!done.Task.IsCompleted)
            {
                await Task.WhenAny(done.Task, changed.WaitAsync()).ConfigureAwait(false);
                if (Volatile.Read(ref latest) is { } s)
                {
                    ctx.UpdateTarget(Render(s));
                }
            }
        });
    }

    public void Show(ProgressSnapshot snapshot)
    {
        Volatile.Write(ref latest, snapshot);
        changed.Release();
    }

    public async ValueTask DisposeAsync()
    {
        done.TrySetResult();
        changed.Release();
        await loop.ConfigureAwait(false);
        changed.Dispose();
    }

    private static IRenderable Render(ProgressSnapshot s)
    {
        static string N(long v) => v.ToString("N0", CultureInfo.InvariantCulture);
        static string Ms(double v) => v >= 1000 ? $"{v / 1000:0.00} s" : $"{v:0.##} ms";
        var last = s.Last;
        var table = new Table().Border(TableBorder.Rounded).Title($"LoadGen — {Markup.Escape(Durations.Format(TimeSpan.FromSeconds(s.Second)))} — {Markup.Escape(s.Phase)} ({Markup.Escape(s.PhasePosition)})");
        table.AddColumn("figure");
        table.AddColumn(new TableColumn("now").RightAligned());
        table.AddColumn(new TableColumn("run so far").RightAligned());
        table.AddRow("rate (target / done)", $"{s.TargetRate:0}/s / {last?.Completed ?? 0}/s", $"sent {N(s.Sent)} · done {N(s.Completed)}");
        table.AddRow("latency p50 / p90 / p99 / max", last is null ? "—" : $"{Ms(last.P50)} / {Ms(last.P90)} / {Ms(last.P99)} / {Ms(last.Max)}", "");
        table.AddRow("service time p50 / p99", last is null ? "—" : $"{Ms(last.ServiceP50)} / {Ms(last.ServiceP99)}", "");
        var errors = $"{N(s.Errors)} ({s.ErrorRate * 100:0.##}%)";
        table.AddRow("errors", N(last?.Errors ?? 0), s.Errors > 0 ? $"[red]{errors}[/]" : errors);
        table.AddRow("dropped / late", $"{N(last?.Dropped ?? 0)} / {N(last?.Late ?? 0)}", N(s.Dropped));
        table.AddRow("backlog / generator CPU", $"{N(s.Backlog)} / {last?.CpuPct ?? 0:0}%", "");
        if (s.Agents is not { Count: > 0 } agents)
        {
            return table;
        }

        var perAgent = new Table().Border(TableBorder.Rounded).Title("agents");
        perAgent.AddColumn("agent");
        perAgent.AddColumn("state");
        perAgent.AddColumn(new TableColumn("sent").RightAligned());
        perAgent.AddColumn(new TableColumn("CPU").RightAligned());
        foreach (var a in agents)
        {
            perAgent.AddRow(Markup.Escape(a.Name), a.Lost is null ? Markup.Escape(a.State) : $"[red]lost[/] {Markup.Escape(a.Lost)}", N(a.Sent), $"{a.CpuPct:0}%");
        }

        return new Rows(table, perAgent);
    }
}
