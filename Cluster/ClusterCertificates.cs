using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace FinCore.Cluster;

/// <summary>Makes a cluster certificate: self-signed, RSA 2048, valid for ten years, written as PKCS#12 with its key
/// and no password (<c>FinCore.Silo --make-cluster-cert PATH</c>; ops/up keeps one in <c>.fincore/</c>).</summary>
public static class ClusterCertificates
{
    public static void Create(string path, string subject = "fincore-cluster")
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest($"CN={subject}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(10));
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null)
        {
            Directory.CreateDirectory(dir);
        }

        File.WriteAllBytes(path, certificate.Export(X509ContentType.Pkcs12));
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite); // the key is in it
        }
    }
}
