using System.Globalization;
using System.Net;

namespace FinCore.Grains.Notifications;

/// <summary>An email's subject and bodies.</summary>
public sealed record RenderedEmail(string Subject, string Text, string Html);

/// <summary>The emails' templates, in Brazilian Portuguese and English. A tenant in BRL writes in pt-BR, any other in en.
/// Amounts are minor units shown with two decimals.</summary>
public static class NotificationTemplates
{
    public static string LanguageFor(string currency) => currency.Trim() == "BRL" ? "pt-BR" : "en";

    public static RenderedEmail Render(string kind, string language, string name, long amount, string currency, string source, DateTime at)
    {
        var pt = language == "pt-BR";
        var money = Money(amount, currency.Trim(), pt);
        var when = pt ? at.ToString("dd/MM/yyyy HH:mm 'UTC'", CultureInfo.InvariantCulture) : at.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture);
        var (subject, line) = (kind, pt) switch
        {
            ("transfer.sent", true) => ($"Você enviou {money}", $"Você enviou {money} (transferência {source}, {when})."),
            ("transfer.sent", false) => ($"You sent {money}", $"You sent {money} (transfer {source}, {when})."),
            ("transfer.received", true) => ($"Você recebeu {money}", $"Você recebeu {money} (transferência {source}, {when})."),
            ("transfer.received", false) => ($"You received {money}", $"You received {money} (transfer {source}, {when})."),
            ("refund.succeeded", true) => ($"Reembolso de {money} concluído", $"O reembolso de {money} foi concluído (reembolso {source}, {when})."),
            ("refund.succeeded", false) => ($"Refund of {money} completed", $"Your refund of {money} is complete (refund {source}, {when})."),
            ("charge.succeeded", true) => ($"Pagamento de {money} aprovado", $"Seu pagamento de {money} foi aprovado (cobrança {source}, {when})."),
            ("charge.succeeded", false) => ($"Payment of {money} succeeded", $"Your payment of {money} succeeded (charge {source}, {when})."),
            ("charge.failed", true) => ($"Pagamento de {money} recusado", $"Seu pagamento de {money} não foi aprovado (cobrança {source}, {when})."),
            ("charge.failed", false) => ($"Payment of {money} failed", $"Your payment of {money} did not go through (charge {source}, {when})."),
            ("security.api_key_created", true) => ("Nova chave de API criada",
                $"Uma nova chave de API ({source}) foi criada em {when}. Se não foi você, revogue-a e fale com o suporte."),
            ("security.api_key_created", false) => ("New API key created",
                $"A new API key ({source}) was created at {when}. If this was not you, revoke it and contact support."),
            ("security.api_key_revoked", true) => ("Chave de API revogada", $"A chave de API {source} foi revogada em {when}."),
            ("security.api_key_revoked", false) => ("API key revoked", $"The API key {source} was revoked at {when}."),
            ("security.webhook_endpoint_changed", true) => ("Endpoint de webhook alterado",
                $"Os webhooks agora vão para {source} (alterado em {when}). Se não foi você, altere-o e revogue suas chaves de API."),
            ("security.webhook_endpoint_changed", false) => ("Webhook endpoint changed",
                $"Webhooks now go to {source} (changed at {when}). If this was not you, change it back and revoke your API keys."),
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "no template for this kind"),
        };
        var greeting = pt ? $"Olá, {name}," : $"Hello {name},";
        var footer = pt ? "Esta é uma mensagem automática." : "This is an automated message.";
        var text = $"{greeting}\n\n{line}\n\n{footer}\n";
        var html = $"""
            <!DOCTYPE html>
            <html lang="{language}"><body style="font-family:sans-serif">
            <p>{WebUtility.HtmlEncode(greeting)}</p>
            <p>{WebUtility.HtmlEncode(line)}</p>
            <p style="color:#666">{WebUtility.HtmlEncode(footer)}</p>
            </body></html>
            """;
        return new RenderedEmail(subject, text, html);
    }

    /// <summary>pt-BR: <c>R$ 1.234,56</c>; en: <c>BRL 1,234.56</c>.</summary>
    public static string Money(long minor, string currency, bool pt)
    {
        var sign = minor < 0 ? "-" : "";
        var abs = Math.Abs(minor);
        var units = (abs / 100).ToString("#,0", CultureInfo.InvariantCulture);
        var cents = (abs % 100).ToString("00", CultureInfo.InvariantCulture);
        if (!pt)
        {
            return $"{sign}{currency} {units}.{cents}";
        }

        var symbol = currency == "BRL" ? "R$" : currency;
        return $"{sign}{symbol} {units.Replace(',', '.')},{cents}";
    }
}
