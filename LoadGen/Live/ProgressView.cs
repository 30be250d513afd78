namespace FinCore.LoadGen.Live;

/// <summary>Picks the progress view: none with <c>--quiet</c>, a live table when standard error is a terminal, else lines.</summary>
internal static class ProgressView
{
    public static IProgressView? Create(bool quiet) =>
        quiet ? null : Console.IsErrorRedirected || Environment.GetEnvironmentVariable("TERM") is "dumb" ? new ProgressLines() : new LiveTable();
}
