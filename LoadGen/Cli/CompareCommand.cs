using System.CommandLine;
using System.Text.Json;
using FinCore.LoadGen.Compare;
using FinCore.LoadGen.Reports;

namespace FinCore.LoadGen.Cli;

/// <summary><c>compare BASE NEW</c>: deltas between two runs, and a CI exit code with <c>--max-regression</c>.</summary>
internal static class CompareCommand
{
    private static readonly Argument<string> Base = new("BASE") { Description = "The base run: a report.json or the run directory holding it" };
    private static readonly Argument<string> New = new("NEW") { Description = "The new run: a report.json or the run directory holding it" };
    private static readonly Option<string?> MaxRegression = new("--max-regression") { Description = "Exit 1 if a figure got worse by more than this: 10% (every figure) or p99=10%,errors=0.5% (errors and dropped in percentage points)" };
    private static readonly Option<string?> Out = new("--out") { Description = "Directory for compare.json and compare.txt (default: NEW's directory)" };

    public static Command Build()
    {
        var compare = new Command("compare", "Compare two runs (throughput, latency percentiles, errors, dropped, completion, generator CPU); --max-regression gives a CI exit code.")
        {
            Base, New, MaxRegression, Out,
        };
        compare.SetAction(parse => Execute(parse));
        return compare;
    }

    private static int Execute(ParseResult parse)
    {
        ComparisonReport result;
        string dir;
        try
        {
            var limitText = parse.GetValue(MaxRegression);
            var limits = limitText is null ? RegressionLimits.None : RegressionLimits.Parse(limitText);
            var (basePath, baseReport) = RunComparison.Load(parse.GetValue(Base)!);
            var (newPath, newReport) = RunComparison.Load(parse.GetValue(New)!);
            result = RunComparison.Compare(basePath, baseReport, newPath, newReport, limits, limitText);
            dir = parse.GetValue(Out) ?? Path.GetDirectoryName(Path.GetFullPath(newPath))!;
        }
        catch (FormatException e)
        {
            Console.Error.WriteLine("loadgen: " + e.Message);
            return Runner.UsageError;
        }

        var table = RunComparison.Table(result);
        Console.Write(table);
        Directory.CreateDirectory(dir);
        var json = Path.Combine(dir, "compare.json");
        File.WriteAllText(json, JsonSerializer.Serialize(result, ReportWriter.Json));
        File.WriteAllText(Path.Combine(dir, "compare.txt"), table);
        Console.WriteLine($"wrote {json} and compare.txt");
        return result.Passed ? Runner.Passed : Runner.Failed;
    }
}
