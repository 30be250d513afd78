using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Configuration;
using Npgsql;
using Orleans.Connections.Security;

namespace FinCore.Cluster;

/// <summary>What every member of a FinCore cluster (silo or client) needs to find and trust the others, read from
/// FinCore's environment names: <c>FINCORE_POSTGRES</c>, <c>FINCORE_CLUSTER_ID</c>, and the cluster certificate with its
/// key, PKCS#12: a file, <c>FINCORE_CLUSTER_CERT</c>, or the file's bytes in base64, <c>FINCORE_CLUSTER_CERT_PFX</c> (for
/// containers, whose secrets arrive as environment variables); <c>FINCORE_CLUSTER_CERT_PASSWORD</c> if it has one.</summary>
public sealed class ClusterSettings
{
    /// <summary>The Orleans service id: stored grain state and reminders are keyed by it, so it never changes.</summary>
    public const string ServiceId = "fincore";

    /// <summary>The ADO.NET invariant of Npgsql, which every Orleans provider is given.</summary>
    public const string Invariant = "Npgsql";

    /// <summary>At most this many connections in the pool Orleans' providers share in one process, unless
    /// <c>FINCORE_POSTGRES</c> sets its own pool size (Npgsql's default is 100).</summary>
    public const int OrleansPoolSize = 48;

    private ClusterSettings(string postgres, string clusterId, X509Certificate2 certificate)
    {
        Postgres = postgres;
        var orleans = new NpgsqlConnectionStringBuilder(postgres);
        if (orleans.MaxPoolSize == 100)
        {
            orleans.MaxPoolSize = OrleansPoolSize;
        }

        OrleansPostgres = orleans.ConnectionString;
        ClusterId = clusterId;
        Certificate = certificate;
    }

    /// <summary>The configured connection string, with the session time zone set to UTC (Orleans passes UTC times, some
    /// as <c>timestamp</c> parameters compared with <c>timestamptz</c> columns) and a 5 s timeout unless it sets one.</summary>
    public string Postgres { get; }

    /// <summary>The connection string Orleans' providers use (membership, reminders, default grain storage, a client's
    /// gateway list): <see cref="Postgres"/> with a pool of <see cref="OrleansPoolSize"/>. The providers share one Npgsql
    /// pool per process, and FinCore's own data source has another (32). At Npgsql's default of 100, three silos
    /// reached PostgreSQL's <c>max_connections</c> (300 then) during a PSP outage at 1,000 charges/s: every waiting
    /// charge writes its backstop reminder, and new connections were refused ("53300: sorry, too many clients already",
    /// <c>ops/chaos --long</c>, psp-outage). With 48 + 32 per silo, <c>ops/pg</c>'s 500 leave room for five silos and
    /// the gateway; size a production database's limit the same way.</summary>
    public string OrleansPostgres { get; }

    /// <summary>The Orleans cluster id (membership rows are keyed by it).</summary>
    public string ClusterId { get; }

    /// <summary>The cluster certificate: each member presents it and accepts only a peer that presents it too.</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>Reads and checks the settings; a missing or unreadable one is an <see cref="InvalidOperationException"/>
    /// whose message says what to set.</summary>
    public static ClusterSettings From(IConfiguration config)
    {
        var postgres = config["FINCORE_POSTGRES"];
        if (string.IsNullOrWhiteSpace(postgres))
        {
            throw new InvalidOperationException("FINCORE_POSTGRES is not set: give the PostgreSQL connection string, e.g. Host=127.0.0.1;Port=5432;Username=fincore;Database=fincore.");
        }

        var connection = new NpgsqlConnectionStringBuilder(postgres) { Timezone = "UTC" };
        if (!postgres.Contains("Timeout", StringComparison.OrdinalIgnoreCase))
        {
            connection.Timeout = 5; // fail fast when the database is down rather than stall for the 15 s default
        }

        var clusterId = config["FINCORE_CLUSTER_ID"];
        if (string.IsNullOrWhiteSpace(clusterId))
        {
            clusterId = "fincore";
        }

        var certPath = config["FINCORE_CLUSTER_CERT"];
        var certBase64 = config["FINCORE_CLUSTER_CERT_PFX"];
        var source = string.IsNullOrWhiteSpace(certPath) ? "FINCORE_CLUSTER_CERT_PFX" : $"'{certPath}'";
        if (string.IsNullOrWhiteSpace(certPath) && string.IsNullOrWhiteSpace(certBase64))
        {
            throw new InvalidOperationException("FINCORE_CLUSTER_CERT is not set: give the path of the cluster certificate (PKCS#12 with its key; ops/up makes one in .fincore/, `FinCore.Silo --make-cluster-cert PATH` makes one anywhere), or its bytes in base64 as FINCORE_CLUSTER_CERT_PFX.");
        }

        X509Certificate2 certificate;
        try
        {
            certificate = string.IsNullOrWhiteSpace(certPath)
                ? X509CertificateLoader.LoadPkcs12(Convert.FromBase64String(certBase64!.Trim()), config["FINCORE_CLUSTER_CERT_PASSWORD"])
                : X509CertificateLoader.LoadPkcs12FromFile(certPath, config["FINCORE_CLUSTER_CERT_PASSWORD"]);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or System.Security.Cryptography.CryptographicException)
        {
            throw new InvalidOperationException($"Cannot read the cluster certificate ({source}): {e.Message}", e);
        }

        if (!certificate.HasPrivateKey)
        {
            throw new InvalidOperationException($"The cluster certificate ({source}) has no private key; it must carry its key.");
        }

        return new ClusterSettings(connection.ConnectionString, clusterId, certificate);
    }

    /// <summary>TLS in both directions with the cluster certificate: the peer must present a certificate, and only
    /// the cluster certificate itself is accepted (it is self-signed, so the chain is not what is checked).</summary>
    public void ConfigureTls(TlsOptions tls)
    {
        tls.LocalCertificate = Certificate;
        tls.RemoteCertificateMode = RemoteCertificateMode.RequireCertificate;
        tls.ClientCertificateMode = RemoteCertificateMode.RequireCertificate;
        var expected = Certificate.RawData;
        tls.RemoteCertificateValidation = (certificate, _, errors) =>
            certificate is not null
            && (errors & ~(SslPolicyErrors.RemoteCertificateChainErrors | SslPolicyErrors.RemoteCertificateNameMismatch)) == SslPolicyErrors.None
            && certificate.RawData.AsSpan().SequenceEqual(expected);
    }
}
