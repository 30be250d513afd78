namespace FinCore.Tests.Infrastructure;

/// <summary>Self-signed cluster certificates (PKCS#12 files with their keys), made once per test run, as ops/up makes
/// one for a local cluster.</summary>
internal static class ClusterCertificate
{
    private static readonly Lazy<string> Shared = new(() => Create("fincore-test-cluster"));

    /// <summary>The certificate every test cluster and its clients use.</summary>
    public static string Path => Shared.Value;

    /// <summary>A new certificate no cluster trusts.</summary>
    public static string CreateForeign() => Create("someone-else");

    private static string Create(string subject)
    {
        var path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"fincore-test-certs-{Environment.ProcessId}", $"{subject}-{Guid.NewGuid():N}.pfx");
        FinCore.Cluster.ClusterCertificates.Create(path, subject);
        return path;
    }
}
