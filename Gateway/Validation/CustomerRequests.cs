using System.Net.Mail;
using System.Text.Json;

namespace FinCore.Gateway.Validation;

/// <summary>A parsed, validated <c>POST /v1/customers</c> body; <see cref="Document"/> is digits only.</summary>
internal sealed record CreateCustomerRequest(string Kind, string Name, string Email, string Document, string? Phone, Dictionary<string, string> Metadata)
{
    public string Fingerprint() => BodyFields.Fingerprint([Kind, Name, Email, Document, Phone], Metadata);

    public static CreateCustomerRequest? Parse(JsonElement body, Dictionary<string, string[]> errors)
    {
        var kind = BodyFields.RequiredString(body, "kind", 20, errors);
        if (kind is not null and not ("individual" or "merchant"))
        {
            errors["kind"] = ["must be individual or merchant"];
        }

        var name = BodyFields.RequiredString(body, "name", 200, errors);
        var email = CustomerFields.Email(BodyFields.RequiredString(body, "email", 254, errors), errors);
        var document = BodyFields.RequiredString(body, "document", 32, errors);
        string? digits = null;
        if (document is not null && kind is "individual" or "merchant")
        {
            digits = kind == "individual" ? Documents.Cpf(document) : Documents.Cnpj(document);
            if (digits is null)
            {
                errors["document"] = [kind == "individual"
                    ? "must be a valid CPF (11 digits with its check digits, e.g. 123.456.789-09)"
                    : "must be a valid CNPJ (14 digits with its check digits, e.g. 12.345.678/0001-95)"];
            }
        }

        var phone = CustomerFields.Phone(BodyFields.OptionalString(body, "phone", 20, errors), errors);
        var metadata = BodyFields.Metadata(body, errors);
        return errors.Count > 0 ? null : new CreateCustomerRequest(kind!, name!, email!, digits!, phone, metadata!);
    }
}

/// <summary>A parsed, validated <c>PATCH /v1/customers/{id}</c> body: only name, email, phone and metadata change.</summary>
internal sealed record UpdateCustomerRequest(string? Name, string? Email, string? Phone, Dictionary<string, string>? Metadata)
{
    private static readonly HashSet<string> Fields = ["name", "email", "phone", "metadata"];

    public static UpdateCustomerRequest? Parse(JsonElement body, Dictionary<string, string[]> errors)
    {
        foreach (var p in body.EnumerateObject())
        {
            if (!Fields.Contains(p.Name))
            {
                errors[p.Name] = ["cannot be changed (only name, email, phone and metadata can)"];
            }
        }

        string? name = null;
        if (body.TryGetProperty("name", out _))
        {
            name = BodyFields.RequiredString(body, "name", 200, errors);
        }

        var email = body.TryGetProperty("email", out _) ? CustomerFields.Email(BodyFields.RequiredString(body, "email", 254, errors), errors) : null;
        var phone = CustomerFields.Phone(BodyFields.OptionalString(body, "phone", 20, errors), errors);
        var metadata = body.TryGetProperty("metadata", out _) ? BodyFields.Metadata(body, errors) : null;
        return errors.Count > 0 ? null : new UpdateCustomerRequest(name, email, phone, metadata);
    }
}

internal static class CustomerFields
{
    /// <summary>An email address (one mailbox, a dot in the domain, no display name), as given; null and an error otherwise.</summary>
    public static string? Email(string? value, Dictionary<string, string[]> errors)
    {
        if (value is null)
        {
            return null;
        }

        if (!MailAddress.TryCreate(value, out var address) || address.Address != value || !address.Host.Contains('.', StringComparison.Ordinal)
            || address.Host.StartsWith('.') || address.Host.EndsWith('.'))
        {
            errors["email"] = ["must be an email address (name@example.com)"];
            return null;
        }

        return value;
    }

    /// <summary>A phone number in E.164 (<c>+</c>, country code, 8 to 15 digits in all), as given; null and an error otherwise.</summary>
    public static string? Phone(string? value, Dictionary<string, string[]> errors)
    {
        if (value is null)
        {
            return null;
        }

        if (value.Length is < 9 or > 16 || value[0] != '+' || value[1] == '0' || value.AsSpan(1).ContainsAnyExceptInRange('0', '9'))
        {
            errors["phone"] = ["must be an E.164 number (+5511987654321)"];
            return null;
        }

        return value;
    }
}

/// <summary>A parsed, validated <c>POST /v1/transfers</c> body.</summary>
internal sealed record CreateTransferRequest(string From, string To, long Amount, string? Currency, string? Description)
{
    public const long MaxAmount = 99_999_999_999;

    public string Fingerprint() => BodyFields.Fingerprint([From, To, Amount.ToString(System.Globalization.CultureInfo.InvariantCulture), Description], null);

    public static CreateTransferRequest? Parse(JsonElement body, Dictionary<string, string[]> errors)
    {
        var from = BodyFields.RequiredString(body, "from", 64, errors);
        var to = BodyFields.RequiredString(body, "to", 64, errors);
        foreach (var (name, value) in new[] { ("from", from), ("to", to) })
        {
            if (value is not null && !Grains.Ids.IsWellFormed(value, "acct_"))
            {
                errors[name] = ["must be an account id (acct_…)"];
            }
        }

        if (from is not null && from == to)
        {
            errors["to"] = ["must be a different account than from"];
        }

        var amount = BodyFields.Amount(body, MaxAmount, errors);
        string? currency = null;
        if (body.TryGetProperty("currency", out _))
        {
            currency = BodyFields.RequiredString(body, "currency", 3, errors);
            if (currency is not null && (currency = Currencies.Normalize(currency)) is null)
            {
                errors["currency"] = ["must be an ISO 4217 currency code"];
            }
        }

        var description = BodyFields.OptionalString(body, "description", 1000, errors);
        return errors.Count > 0 ? null : new CreateTransferRequest(from!, to!, amount!.Value, currency, description);
    }
}

/// <summary><c>POST /v1/charges/{id}/refunds</c>: an amount, or none for what is left of the charge.</summary>
internal sealed record CreateRefundRequest(long? Amount)
{
    public static readonly CreateRefundRequest Rest = new((long?)null);

    public string Fingerprint(string chargeId) =>
        BodyFields.Fingerprint([chargeId, Amount?.ToString(System.Globalization.CultureInfo.InvariantCulture)], null);

    public static CreateRefundRequest? Parse(JsonElement body, Dictionary<string, string[]> errors)
    {
        var amount = BodyFields.Amount(body, CreateTransferRequest.MaxAmount, errors, required: false);
        return errors.Count > 0 ? null : new CreateRefundRequest(amount);
    }
}
