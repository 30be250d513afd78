using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace FinCore.Grains;

/// <summary>The audit chain's format, shared by the sealer and the verifier:
/// <c>hash = SHA-256(prev_hash ‖ canonical entry)</c>, the first entry chained to 32 zero bytes.</summary>
public static class AuditChain
{
    public static readonly byte[] Genesis = new byte[32];

    public static string Canonical(long seq, string eventId, string tenantId, string chargeId, string type, DateTime createdAt, string payload) =>
        string.Join('\n', seq.ToString(CultureInfo.InvariantCulture), eventId, tenantId, chargeId, type,
            createdAt.ToUniversalTime().ToString("yyyy-MM-ddTHH:mm:ss.ffffffZ", CultureInfo.InvariantCulture), payload);

    public static byte[] Next(byte[] previous, string canonical)
    {
        var entry = Encoding.UTF8.GetBytes(canonical);
        var data = new byte[previous.Length + entry.Length];
        previous.CopyTo(data, 0);
        entry.CopyTo(data, previous.Length);
        return SHA256.HashData(data);
    }
}
