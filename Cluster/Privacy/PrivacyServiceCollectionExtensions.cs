using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace FinCore.Privacy;

public static class PrivacyServiceCollectionExtensions
{
    /// <summary>The master keys (from <c>FINCORE_MASTER_KEY</c>, read now: a process without one does not start) and
    /// the protector of customers' personal data.</summary>
    public static IServiceCollection AddPersonalData(this IServiceCollection services, IConfiguration config)
    {
        services.AddSingleton(MasterKeys.From(config));
        var cache = config.GetValue<TimeSpan?>("PersonalData:KeyCache");
        services.AddSingleton(sp => new PersonalDataProtector(sp.GetRequiredService<Persistence.Database>(), sp.GetRequiredService<MasterKeys>(), cache));
        return services;
    }
}
