namespace FinCore.LoadGen.Workloads;

/// <summary>One tenant the run acts as: its key, its settlement currency, the charges it created and, for transfers,
/// its funded accounts and the charges that funded them.</summary>
internal sealed record TenantContext(string Id, string ApiKey, string Currency)
{
    public RecentIds Recent { get; } = new();

    /// <summary>Accounts transfers are paid from (and to); empty unless the mix has transfers.</summary>
    public string[] Accounts { get; set; } = [];

    /// <summary>The customers whose accounts <see cref="Accounts"/> are (in their order).</summary>
    public string[] Customers { get; set; } = [];

    /// <summary>The merchant's account: receives <c>--hot-share</c> of the transfers.</summary>
    public string? Merchant { get; set; }

    /// <summary>The merchant (the customer whose account <see cref="Merchant"/> is).</summary>
    public string? MerchantCustomer { get; set; }

    /// <summary>The charges that funded <see cref="Accounts"/> (one each, in their order): what refunds give back.</summary>
    public string[] FundingCharges { get; set; } = [];
}
