using FinCore.Grains.Ledger;
using FinCore.Persistence;
using FinCore.Privacy;

namespace FinCore.Grains.Customers;

/// <summary>A customer or merchant (<c>{tenant}/{cus}</c>). Its <c>customers</c> row and its account's row are written in
/// the same transaction as its state, so a customer never exists without its account. Its personal data is stored only
/// encrypted (<see cref="PersonalDataProtector"/>), in the state and the row alike; the grain holds it in plaintext in
/// memory while active.</summary>
[GrainType("customer")]
public sealed class CustomerGrain([PersistentState("customer", "fincore")] IPersistentState<CustomerState> state, PersonalDataProtector personalData,
    Database database) : Grain, ICustomerGrain
{
    /// <summary>The customer with its personal data (null: none).</summary>
    private Customer? _customer;

    private string TenantId => this.GetPrimaryKeyString()[..this.GetPrimaryKeyString().IndexOf('/', StringComparison.Ordinal)];

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (state.State.Customer is { } stored && state.State.ErasedAt is null)
        {
            _customer = state.State.Sealed is { } sealedData
                ? With(stored, await personalData.OpenAsync(TenantId, stored.Id, sealedData, cancellationToken))
                : stored; // stored before encryption: resealed on its next write (or by PersonalDataStartup)
        }
    }

    public async Task<CreateCustomerResult> Create(CreateCustomerCommand command)
    {
        if (state.State.ErasedAt is not null)
        {
            throw new CustomerStateException("This customer was erased; its Idempotency-Key cannot make it again.");
        }

        if (_customer is { } existing)
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
        var (sealedData, emailHash) = await SealAsync(customer);
        state.State.Fingerprint = command.Fingerprint;
        await state.WriteOrReloadAsync([LedgerSql.InsertCustomer(TenantId, Stored(customer), command.Currency, sealedData, emailHash)]);
        _customer = customer;
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

        await WriteAsync(updated with { UpdatedAt = DateTime.UtcNow });
        return _customer!;
    }

    public async Task<bool> Reseal()
    {
        if (_customer is not { } c || (state.State.Sealed is { } s && PersonalDataProtector.KeyVersion(s) == await personalData.CurrentVersionAsync(TenantId)))
        {
            return false;
        }

        await WriteAsync(c);
        return true;
    }

    public async Task Erase()
    {
        if (state.State.ErasedAt is not null)
        {
            return;
        }

        var c = Current();
        await using (var cmd = database.DataSource.CreateCommand("SELECT balance FROM accounts WHERE tenant_id = $1 AND id = $2"))
        {
            cmd.Parameters.AddWithValue(TenantId);
            cmd.Parameters.AddWithValue(c.Account);
            if (await cmd.ExecuteScalarAsync() is long balance && balance != 0)
            {
                throw new CustomerStateException($"The customer's account {c.Account} holds {balance}: move it out before erasing the customer.");
            }
        }

        var now = DateTime.UtcNow;
        state.State.Customer = Stored(c) with { Metadata = [], UpdatedAt = now };
        state.State.Sealed = null;
        state.State.Fingerprint = null;
        state.State.Preferences = new NotificationPreferences(false, false);
        state.State.ErasedAt = now;
        await state.WriteOrReloadAsync([LedgerSql.EraseCustomer(TenantId, c.Id, now), LedgerSql.RevokeSessions(TenantId, c.Id, now)]);
        _customer = null;
    }

    /// <summary>Seals <paramref name="customer"/>'s personal data and writes it, the state and the row together.</summary>
    private async Task WriteAsync(Customer customer)
    {
        var (sealedData, emailHash) = await SealAsync(customer);
        await state.WriteOrReloadAsync([LedgerSql.UpdateCustomer(TenantId, customer, sealedData, emailHash)]);
        _customer = customer;
    }

    /// <summary>Puts the sealed personal data and the customer without it into the state (written by the caller).</summary>
    private async Task<(byte[] Sealed, byte[] EmailHash)> SealAsync(Customer customer)
    {
        var tenant = TenantId;
        var sealedData = await personalData.SealAsync(tenant, customer.Id, new PersonalData(customer.Name, customer.Email, customer.Document, customer.Phone));
        state.State.Customer = Stored(customer);
        state.State.Sealed = sealedData;
        return (sealedData, await personalData.EmailHashAsync(tenant, customer.Email));
    }

    /// <summary>The customer as stored: without its personal data.</summary>
    private static Customer Stored(Customer c) => c with { Name = "", Email = "", Document = "", Phone = null };

    private static Customer With(Customer stored, PersonalData p) => stored with { Name = p.Name, Email = p.Email, Document = p.Document, Phone = p.Phone };

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
        if (_customer is not { } c)
        {
            DeactivateOnIdle();
            throw new CustomerNotFoundException("No such customer.");
        }

        return c;
    }
}
