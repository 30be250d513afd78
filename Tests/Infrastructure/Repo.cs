namespace FinCore.Tests.Infrastructure;

/// <summary>Where the repository and the built programs are: tests run the same binaries a user runs.</summary>
internal static class Repo
{
    public static readonly string Root = FinCore.Chaos.Processes.RepoRoot;

    /// <summary>Debug or Release: whatever configuration built this test assembly.</summary>
    public static readonly string Configuration = new DirectoryInfo(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory)).Parent!.Name;

    public static string Built(string project, string assembly) =>
        Path.Combine(Root, project, "bin", Configuration, "net10.0", assembly);

    public static string Ops(string script) => Path.Combine(Root, "ops", script);
}
