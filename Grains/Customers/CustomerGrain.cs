using FinCore.Grains.Ledger;
using FinCore.Persistence;

namespace FinCore.Grains.Customers;

/// <summary>A customer or merchant (<c>{tenant}/{cus}</c>). Its <c>customers</c> row and its account's row are written in
/// the same transaction as its state, so a customer never exists without its account.</summary>
[GrainType("customer")]
public sealed class CustomerGrain([PersistentState("customer", "fincore")] IPersistentState<CustomerState> state) : Grain, ICustomerGrain
{
    private string TenantId => this.GetPrimaryKeyString()[..this.GetPrimaryKeyString().IndexOf('/', StringComparison.Ordinal)];

    public async Task<CreateCustomerResult> Create(CreateCustomerCommand command)
    {
        if (state.State.Customer is { } existing)
        {
            return state.State.Fingerprint == command.Fingerprint
                ? new CreateCustomerResult(existing, Replayed: true)
                : throw new IdempotencyKeyMismatchException("This Idempotency-Key was used with a different request body.");
        }

        var now = DateTime.UtcNow;
        var customer = new Customer
        {
            Id = command.CustomerId,
            Kind = command.Kind,
            Name = command.Name,
            Email = command.Email,
            Document = command.Document,
            Phone = command.Phone,
            Metadata = command.Metadata,
            Account = command.AccountId,
            CreatedAt = now,
            UpdatedAt = now,
        };
        state.State.Customer = customer;
        state.State.Fingerprint = command.Fingerprint;
        await state.WriteOrReloadAsync([LedgerSql.InsertCustomer(TenantId, customer, command.Currency)]);
        return new CreateCustomerResult(customer, Replayed: false);
    }

    public Task<Customer> Get() => Task.FromResult(Current());

    public async Task<Customer> Update(UpdateCustomerCommand command)
    {
        var c = Current();
        var updated = c with
        {
            Name = command.Name ?? c.Name,
            Email = command.Email ?? c.Email,
            Phone = command.Phone ?? c.Phone,
            Metadata = command.Metadata ?? c.Metadata,
        };
        if (updated == c || (updated with { Metadata = c.Metadata } == c && Same(updated.Metadata, c.Metadata)))
        {
            return c;
        }

        state.State.Customer = updated with { UpdatedAt = DateTime.UtcNow };
        await state.WriteOrReloadAsync([LedgerSql.UpdateCustomer(TenantId, state.State.Customer)]);
        return state.State.Customer;
    }

    public Task<NotificationPreferences> Preferences()
    {
        _ = Current();
        return Task.FromResult(state.State.Preferences);
    }

    public async Task<NotificationPreferences> SetPreferences(bool? email, bool? push)
    {
        var c = Current();
        var preferences = new NotificationPreferences(email ?? state.State.Preferences.Email, push ?? state.State.Preferences.Push);
        if (state.State.Preferences == preferences)
        {
            return preferences;
        }

        state.State.Preferences = preferences;
        await state.WriteOrReloadAsync([LedgerSql.UpdatePreferences(TenantId, c.Id, preferences)]);
        return state.State.Preferences;
    }

    private static bool Same(Dictionary<string, string> a, Dictionary<string, string> b) =>
        a.Count == b.Count && a.All(kv => b.TryGetValue(kv.Key, out var v) && v == kv.Value);

    private Customer Current()
    {
        if (state.State.Customer is not { } c)
        {
            DeactivateOnIdle();
            throw new CustomerNotFoundException("No such customer.");
        }

        return c;
    }
}
