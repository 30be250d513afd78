using FinCore.Benchmarks;

// dotnet run -c Release --project Benchmarks -- orleans [seconds]   Orleans: grain calls (client -> silo, in-silo), state writes
if (args is ["orleans", ..])
{
    await OrleansBenchmarks.RunAsync(TimeSpan.FromSeconds(args.Length > 1 ? int.Parse(args[1]) : 5));
    return 0;
}

Console.Error.WriteLine("usage: FinCore.Benchmarks orleans [seconds]   (end to end: ops/bench/cpu-per-charge, LoadGen)");
return 2;
