using Spectre.Console;

namespace FinCore.LoadGen.Reports;

/// <summary>The end-of-run summary table on the terminal.</summary>
internal static class ConsoleSummary
{
    public static void Print(RunReport r, IReadOnlyList<string> files)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Out) });
        var t = r.Totals;
        var table = new Table().Border(TableBorder.Rounded).Title($"LoadGen — {Markup.Escape(r.Target)} — {(r.Passed ? "[green]PASSED[/]" : "[red]FAILED[/]")}");
        table.AddColumn("figure");
        table.AddColumn(new TableColumn("value").RightAligned());
        void Row(string k, string v) => table.AddRow(Markup.Escape(k), Markup.Escape(v));
        Row("measured", $"{r.DurationS:0.#} s (warm-up {r.WarmupS:0.#} s not counted)");
        Row("scheduled / sent / completed", $"{t.Scheduled} / {t.Sent} / {t.Completed}");
        Row("throughput", $"{t.Throughput:0.#}/s");
        Row("errors", $"{t.Errors} ({t.ErrorRate * 100:0.###}%)");
        Row("dropped / late (>10 ms)", $"{t.Dropped} ({t.DroppedRate * 100:0.###}%) / {t.Late}");
        Row("latency p50 / p90 / p99 / p99.9 / max", Ms(r.Latency.P50, r.Latency.P90, r.Latency.P99, r.Latency.P999, r.Latency.Max));
        Row("service time p50 / p90 / p99 / p99.9 / max", Ms(r.ServiceTime.P50, r.ServiceTime.P90, r.ServiceTime.P99, r.ServiceTime.P999, r.ServiceTime.Max));
        if (r.Completion is { } c)
        {
            Row("202 → terminal p50 / p90 / p99 / max", Ms(c.Latency.P50, c.Latency.P90, c.Latency.P99, c.Latency.Max));
            Row("acknowledged / terminal / incomplete", $"{c.Accepted} / {c.Terminal} / {c.Incomplete}");
            Row("final statuses", string.Join(", ", c.FinalStatuses.Select(kv => $"{kv.Key} {kv.Value}")));
            Row("tracking requests: list pages / reads by id", $"{c.Requests.List} / {c.Requests.Get}");
        }

        if (r.Webhooks is { } w)
        {
            Row("webhooks: deliveries / events / duplicates / bad signatures", $"{w.Received} / {w.Events} / {w.Duplicates} / {w.BadSignatures}");
            Row("webhook lag (arrival − created_at) p50 / p99 / max", Ms(w.Lag.P50, w.Lag.P99, w.Lag.Max) + $" (settled {w.SettleS:0.#} s after the run)");
        }

        if (r.Push is { } push)
        {
            Row("push: streams / expected / arrived / notifications / duplicates / reconnects",
                $"{push.Streams} / {(push.Expected is { } e ? e.ToString(System.Globalization.CultureInfo.InvariantCulture) : "?")} / {push.Received} / {push.Notifications} / {push.Duplicates} / {push.Reconnects}");
            Row("push lag (arrival − occurred_at) p50 / p99 / max", Ms(push.Lag.P50, push.Lag.P99, push.Lag.Max) + $" (settled {push.SettleS:0.#} s after the run)");
        }

        if (r.Mail is { } mail)
        {
            Row("email: expected / accepted / notifications / duplicates",
                $"{(mail.Expected is { } e ? e.ToString(System.Globalization.CultureInfo.InvariantCulture) : "?")} / {mail.Received} / {mail.Emails} / {mail.Duplicates}");
            Row("email lag (accepted − occurred_at) p50 / p99 / max", Ms(mail.Lag.P50, mail.Lag.P99, mail.Lag.Max) + $" (settled {mail.SettleS:0.#} s after the run)");
        }

        Row("status codes", string.Join(", ", r.StatusCodes.Select(kv => $"{kv.Key}: {kv.Value}")));
        Row("generator CPU avg / peak (of " + r.Generator.Cores + " cores)", $"{r.Generator.CpuAvgPct:0.#}% / {r.Generator.CpuMaxPct:0.#}%");
        Row("generator CPU per request", $"{r.Generator.CpuUsPerRequest:0.#} µs");
        Row("generator peak working set", $"{r.Generator.PeakWorkingSetMb:0.#} MB");
        if (r.BreakingPoint is { } b)
        {
            Row("highest rate with SLOs held", $"{b.HighestPassingRate:0.#}/s");
            Row("broke at", b.BrokenAtRate is { } at ? $"{at:0.#}/s: {b.Reason}" : b.Reason);
        }

        foreach (var th in r.Thresholds)
        {
            table.AddRow(Markup.Escape("threshold " + th.Expression), th.Passed ? $"[green]held[/] ({Markup.Escape(th.Actual)})" : $"[red]FAILED[/] ({Markup.Escape(th.Actual)})");
        }

        if (r.Aborted is not null)
        {
            table.AddRow("stopped early", Markup.Escape(r.Aborted));
        }

        console.Write(table);
        if (r.Distributed is { } d)
        {
            console.Write(AgentTable(d));
        }

        foreach (var f in files)
        {
            console.WriteLine("wrote " + f);
        }
    }

    private static Table AgentTable(Distributed d)
    {
        var agents = new Table().Border(TableBorder.Rounded).Title($"agents — coordinator CPU {d.CoordinatorCpuS:0.##} s ({d.CoordinatorCpuPctOfAgents:0.##}% of the agents')");
        foreach (var h in new[] { "agent", "state", "scheduled", "sent", "dropped", "late", "CPU avg", "CPU s", "clock offset" })
        {
            agents.AddColumn(h == "agent" || h == "state" ? new TableColumn(h) : new TableColumn(h).RightAligned());
        }

        foreach (var a in d.Agents)
        {
            agents.AddRow(
                Markup.Escape(a.Agent),
                a.Lost is null ? Markup.Escape(a.State) : $"[red]lost[/] ({Markup.Escape(a.Lost)})",
                a.Scheduled.ToString(System.Globalization.CultureInfo.InvariantCulture),
                a.Sent.ToString(System.Globalization.CultureInfo.InvariantCulture),
                a.Dropped.ToString(System.Globalization.CultureInfo.InvariantCulture),
                a.Late.ToString(System.Globalization.CultureInfo.InvariantCulture),
                $"{a.CpuAvgPct:0.#}%",
                $"{a.CpuS:0.##}",
                $"{a.ClockOffsetMs:0.###} ms");
        }

        if (d.Lost.Count > 0)
        {
            agents.Caption(d.LossTolerated ? $"lost (tolerated): {Markup.Escape(string.Join(", ", d.Lost))}" : $"[red]lost: {Markup.Escape(string.Join(", ", d.Lost))}: the run fails[/]");
        }

        return agents;
    }

    private static string Ms(params double[] values) => string.Join(" / ", values.Select(v => v >= 1000 ? $"{v / 1000:0.00}s" : $"{v:0.##}ms"));
}
