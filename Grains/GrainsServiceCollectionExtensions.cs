using FinCore.Grains.Audit;
using FinCore.Grains.Charges;
using FinCore.Grains.Notifications;
using FinCore.Grains.Psp;
using FinCore.Grains.Webhooks;
using FinCore.Grains.Storage;
using FinCore.Persistence;
using FinCore.Privacy;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace FinCore.Grains;

public static class GrainsServiceCollectionExtensions
{
    /// <summary>What a silo hosting the payment grains needs beside the grains: their schema, the audit sealer, the
    /// charge sweeper's start and the PSP and webhook clients. The charge's row storage is found by the silo in this
    /// assembly (<see cref="ChargeRowMapping"/>).</summary>
    public static IServiceCollection AddFinCorePayments(this IServiceCollection services, IConfiguration config)
    {
        services.AddSingleton<IMigrationSource, PaymentsMigrations>();
        services.AddHostedService<AuditSealer>();
        services.AddHostedService<ChargeSweeperStartup>();
        services.AddPersonalData(config);
        services.AddHostedService<Customers.PersonalDataStartup>();
        services.AddOptions<PspOptions>().Bind(config.GetSection("Psp")).Configure(o => o.Url = config["FINCORE_PSP_URL"] ?? o.Url);
        services.AddSingleton<PspPipeline>();
        services.AddSingleton<PspOutage>();
        // Every PSP call and webhook is already counted and traced by FinCore; the factory's per-request log scopes
        // and messages only cost CPU on the hot path.
        services.AddHttpClient<PspClient>().RemoveAllLoggers();
        services.AddOptions<WebhookOptions>().Bind(config.GetSection("Webhooks"));
        services.AddOptions<NotificationOptions>().Bind(config.GetSection("Notifications")).Configure(o =>
        {
            o.SmtpUrl = config["FINCORE_SMTP_URL"] ?? o.SmtpUrl;
            o.From = config["FINCORE_MAIL_FROM"] ?? o.From;
        });
        services.AddSingleton<SmtpMailer>();
        services.AddHttpClient("webhooks", c => c.Timeout = Timeout.InfiniteTimeSpan).RemoveAllLoggers();
        return services;
    }
}
