namespace FinCore.Tests.Infrastructure;

internal static class Shell
{
    /// <summary>Runs a command to completion; its standard output, or an exception with its standard error.</summary>
    public static Task<string> RunAsync(string file, params string[] args) => FinCore.Chaos.Processes.RunAsync(file, args);
}
