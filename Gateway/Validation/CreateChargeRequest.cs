using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace FinCore.Gateway.Validation;

/// <summary>A parsed, validated <c>POST /v1/charges</c> body.</summary>
internal sealed partial record CreateChargeRequest(
    long Amount, string Currency, string PaymentMethod, string? Description, string? Customer, Dictionary<string, string> Metadata)
{
    public const long MaxAmount = 99_999_999;

    /// <summary>Identifies the request body for idempotency: equal for equal requests, whatever the JSON formatting.</summary>
    public string Fingerprint()
    {
        var sb = new StringBuilder();
        void Add(string? s) => sb.Append(s is null ? "-1" : s.Length.ToString(System.Globalization.CultureInfo.InvariantCulture)).Append(':').Append(s).Append('|');
        Add(Amount.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Add(Currency);
        Add(PaymentMethod);
        Add(Description);
        Add(Customer);
        foreach (var (k, v) in Metadata.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            Add(k);
            Add(v);
        }

        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(sb.ToString())));
    }

    public static CreateChargeRequest? Parse(JsonElement body, Dictionary<string, string[]> errors)
    {
        long amount = 0;
        if (!body.TryGetProperty("amount", out var a))
        {
            errors["amount"] = ["is required"];
        }
        else if (a.ValueKind != JsonValueKind.Number || !a.TryGetInt64(out amount) || amount < 1 || amount > MaxAmount)
        {
            errors["amount"] = [$"must be an integer between 1 and {MaxAmount} (minor units)"];
        }

        var currency = RequiredString(body, "currency", 3, errors);
        if (currency is not null && Currencies.Normalize(currency) is null)
        {
            errors["currency"] = ["must be an ISO 4217 currency code"];
        }

        var paymentMethod = RequiredString(body, "payment_method", 255, errors);
        if (paymentMethod is not null && (CardNumber().IsMatch(paymentMethod.Replace(" ", "", StringComparison.Ordinal).Replace("-", "", StringComparison.Ordinal)) || paymentMethod.Any(char.IsWhiteSpace)))
        {
            errors["payment_method"] = ["must be a PSP payment method token (such as pm_card_visa), never a card number"];
        }

        var description = OptionalString(body, "description", 1000, errors);
        var customer = OptionalString(body, "customer", 255, errors);
        var metadata = ParseMetadata(body, errors);
        return errors.Count > 0 ? null : new CreateChargeRequest(amount, Currencies.Normalize(currency)!, paymentMethod!, description, customer, metadata!);
    }

    private static string? RequiredString(JsonElement body, string name, int max, Dictionary<string, string[]> errors)
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

    private static string? OptionalString(JsonElement body, string name, int max, Dictionary<string, string[]> errors)
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

    private static Dictionary<string, string>? ParseMetadata(JsonElement body, Dictionary<string, string[]> errors)
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

    [GeneratedRegex(@"\d{13,19}")]
    private static partial Regex CardNumber();
}
