using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

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
        using var key = RSA.Create(2048);
        var request = new CertificateRequest($"CN={subject}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
        var dir = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"fincore-test-certs-{Environment.ProcessId}");
        Directory.CreateDirectory(dir);
        var path = System.IO.Path.Combine(dir, $"{subject}-{Guid.NewGuid():N}.pfx");
        File.WriteAllBytes(path, certificate.Export(X509ContentType.Pkcs12));
        return path;
    }
}
