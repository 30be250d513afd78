namespace FinCore.Tests.Infrastructure;

/// <summary>Temporary directories the tests leave behind: removed when done, unless <c>FINCORE_KEEP_TEST_DIRS=1</c>
/// asks to keep them for a look.</summary>
internal static class TestDirs
{
    public static void Remove(string dir)
    {
        if (Environment.GetEnvironmentVariable("FINCORE_KEEP_TEST_DIRS") != "1" && Directory.Exists(dir))
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
