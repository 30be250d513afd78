using FinCore.Grains.Audit;
using FinCore.Grains.Storage;
using FinCore.Runtime.Persistence;
using Microsoft.Extensions.DependencyInjection;

namespace FinCore.Grains;

public static class GrainsServiceCollectionExtensions
{
    /// <summary>What a silo hosting the payment grains needs beside the grains: their schema and the audit sealer.</summary>
    public static IServiceCollection AddFinCorePayments(this IServiceCollection services)
    {
        services.AddSingleton<IMigrationSource, PaymentsMigrations>();
        services.AddHostedService<AuditSealer>();
        return services;
    }
}
