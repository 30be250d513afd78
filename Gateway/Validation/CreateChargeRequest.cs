using System.Text.Json;
using System.Text.RegularExpressions;

namespace FinCore.Gateway.Validation;

/// <summary>A parsed, validated <c>POST /v1/charges</c> body.</summary>
internal sealed partial record CreateChargeRequest(
    long Amount, string Currency, string PaymentMethod, string? Description, string? Customer, Dictionary<string, string> Metadata,
    string? Account = null)
{
    public const long MaxAmount = 99_999_999;

    /// <summary>Identifies the request body for idempotency: equal for equal requests, whatever the JSON formatting.</summary>
    /// <remarks>The account is a part only when given, so charges without one keep the fingerprint they always had.</remarks>
    public string Fingerprint() => BodyFields.Fingerprint(
        Account is null
            ? [Amount.ToString(System.Globalization.CultureInfo.InvariantCulture), Currency, PaymentMethod, Description, Customer]
            : [Amount.ToString(System.Globalization.CultureInfo.InvariantCulture), Currency, PaymentMethod, Description, Customer, Account],
        Metadata);

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

        var currency = BodyFields.RequiredString(body, "currency", 3, errors);
        if (currency is not null && Currencies.Normalize(currency) is null)
        {
            errors["currency"] = ["must be an ISO 4217 currency code"];
        }

        var paymentMethod = BodyFields.RequiredString(body, "payment_method", 255, errors);
        if (paymentMethod is not null && (CardNumber().IsMatch(paymentMethod.Replace(" ", "", StringComparison.Ordinal).Replace("-", "", StringComparison.Ordinal)) || paymentMethod.Any(char.IsWhiteSpace)))
        {
            errors["payment_method"] = ["must be a PSP payment method token (such as pm_card_visa), never a card number"];
        }

        var description = BodyFields.OptionalString(body, "description", 1000, errors);
        var customer = BodyFields.OptionalString(body, "customer", 255, errors);
        var metadata = BodyFields.Metadata(body, errors);
        var account = BodyFields.OptionalString(body, "account", 64, errors);
        if (account is not null && !Grains.Ids.IsWellFormed(account, "acct_"))
        {
            errors["account"] = ["must be an account id (acct_…)"];
        }

        return errors.Count > 0 ? null : new CreateChargeRequest(amount, Currencies.Normalize(currency)!, paymentMethod!, description, customer, metadata!, account);
    }

    [GeneratedRegex(@"\d{13,19}")]
    private static partial Regex CardNumber();
}
