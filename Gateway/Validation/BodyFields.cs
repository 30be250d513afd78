using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace FinCore.Gateway.Validation;

/// <summary>The fields request bodies share, read under the contract's rules; a bad one is named in <c>errors</c>.</summary>
internal static class BodyFields
{
    public static string? RequiredString(JsonElement body, string name, int max, Dictionary<string, string[]> errors)
    {
        if (!body.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null)
        {
            errors[name] = ["is required"];
            return null;
        }

        if (v.ValueKind != JsonValueKind.String || v.GetString() is not { Length: > 0 } s || s.Length > max)
        {
            errors[name] = [$"must be a non-empty string of at most {max} characters"];
            return null;
        }

        return s;
    }

    public static string? OptionalString(JsonElement body, string name, int max, Dictionary<string, string[]> errors)
    {
        if (!body.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (v.ValueKind != JsonValueKind.String || v.GetString()!.Length > max)
        {
            errors[name] = [$"must be a string of at most {max} characters"];
            return null;
        }

        return v.GetString();
    }

    public static Dictionary<string, string>? Metadata(JsonElement body, Dictionary<string, string[]> errors)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        if (!body.TryGetProperty("metadata", out var m) || m.ValueKind == JsonValueKind.Null)
        {
            return result;
        }

        if (m.ValueKind != JsonValueKind.Object)
        {
            errors["metadata"] = ["must be an object of string values"];
            return null;
        }

        foreach (var p in m.EnumerateObject())
        {
            if (p.Name.Length is 0 or > 40)
            {
                errors["metadata"] = ["keys must be 1 to 40 characters"];
                return null;
            }

            if (p.Value.ValueKind != JsonValueKind.String || p.Value.GetString()!.Length > 500)
            {
                errors["metadata"] = [$"value of '{p.Name}' must be a string of at most 500 characters"];
                return null;
            }

            result[p.Name] = p.Value.GetString()!;
        }

        if (result.Count > 20)
        {
            errors["metadata"] = ["may have at most 20 keys"];
            return null;
        }

        return result;
    }

    /// <summary>Identifies a request body for idempotency: equal for equal requests, whatever the JSON formatting (each
    /// part length-prefixed, metadata in key order, SHA-256 in hex). Stored with what the request made: never change it.</summary>
    public static string Fingerprint(IEnumerable<string?> parts, IReadOnlyDictionary<string, string>? metadata)
    {
        var sb = new StringBuilder();
        void Add(string? s) => sb.Append(s is null ? "-1" : s.Length.ToString(CultureInfo.InvariantCulture)).Append(':').Append(s).Append('|');
        foreach (var p in parts)
        {
            Add(p);
        }

        foreach (var (k, v) in (metadata ?? new Dictionary<string, string>()).OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            Add(k);
            Add(v);
        }

        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(sb.ToString())));
    }

    /// <summary>An amount in minor units: an integer from 1 to <paramref name="max"/>; null (and an error) otherwise,
    /// or when <paramref name="required"/> and absent.</summary>
    public static long? Amount(JsonElement body, long max, Dictionary<string, string[]> errors, bool required = true)
    {
        if (!body.TryGetProperty("amount", out var a) || a.ValueKind == JsonValueKind.Null)
        {
            if (required)
            {
                errors["amount"] = ["is required"];
            }

            return null;
        }

        if (a.ValueKind != JsonValueKind.Number || !a.TryGetInt64(out var amount) || amount < 1 || amount > max)
        {
            errors["amount"] = [$"must be an integer between 1 and {max} (minor units)"];
            return null;
        }

        return amount;
    }
}
