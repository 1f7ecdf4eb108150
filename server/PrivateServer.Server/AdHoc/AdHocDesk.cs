using PrivateServer.Server.Accounts;

namespace PrivateServer.Server.AdHoc;

/// <summary>
/// Where ad-hoc customers and supporters meet, in memory (a customer exists only while connected):
/// customers who joined with a code, keyed by the code's hash, and the supporter waiting for one;
/// the waiting queue of customer requests; and the relay keys of connected customers.
/// </summary>
public sealed class AdHocDesk
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, CodeSlot> _codes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, AdHocCustomer> _requests = new(StringComparer.Ordinal);
    private readonly Dictionary<string, AdHocCustomer> _relayKeys = new(StringComparer.Ordinal);

    /// <summary>How many customers wait in the queue.</summary>
    public int WaitingCount
    {
        get
        {
            lock (_lock)
            {
                return _requests.Count;
            }
        }
    }

    /// <summary>Registers a connected customer; a waiting supporter of its code gets it now.</summary>
    public void Arrive(AdHocCustomer customer)
    {
        ArgumentNullException.ThrowIfNull(customer);
        lock (_lock)
        {
            _relayKeys[customer.RelayKeyHash] = customer;
            if (customer.Code is { } code)
            {
                SlotOf(code.Hash).Customer.TrySetResult(customer);
            }
            else if (customer.RequestId is { } id)
            {
                _requests[id] = customer;
            }
        }
    }

    /// <summary>Forgets a customer whose channel closed: its code, its request and its relay key die with it.</summary>
    public void Leave(AdHocCustomer customer)
    {
        ArgumentNullException.ThrowIfNull(customer);
        lock (_lock)
        {
            _relayKeys.Remove(customer.RelayKeyHash);
            if (customer.RequestId is { } id)
            {
                _requests.Remove(id);
            }

            if (customer.Code is { } code && _codes.TryGetValue(code.Hash, out var slot)
                && slot.Customer.Task is { IsCompletedSuccessfully: true } arrived && arrived.Result == customer)
            {
                _codes.Remove(code.Hash);
            }
        }
    }

    /// <summary>The connected customer whose relay key has this hash.</summary>
    public AdHocCustomer? FindByRelayKey(string keyHash)
    {
        lock (_lock)
        {
            return _relayKeys.GetValueOrDefault(keyHash);
        }
    }

    /// <summary>
    /// Waits for the customer who joins with the code of this hash (or returns the one already there).
    /// Null when nobody joined before <paramref name="timeout"/>; one supporter waits per code at a time.
    /// </summary>
    public async Task<AdHocCustomer?> WaitForCodeAsync(string hash, TimeSpan timeout, CancellationToken cancellationToken)
    {
        CodeSlot slot;
        lock (_lock)
        {
            slot = SlotOf(hash);
            if (slot.Waiting)
            {
                throw new InvalidOperationException("another connect already waits for this code");
            }

            slot.Waiting = true;
        }

        try
        {
            return await slot.Customer.Task.WaitAsync(timeout < TimeSpan.Zero ? TimeSpan.Zero : timeout, cancellationToken);
        }
        catch (TimeoutException)
        {
            return null;
        }
        finally
        {
            lock (_lock)
            {
                slot.Waiting = false;
                if (!slot.Customer.Task.IsCompleted && _codes.GetValueOrDefault(hash) == slot)
                {
                    _codes.Remove(hash);
                }
            }
        }
    }

    /// <summary>Whether a connect already waits for the code of this hash.</summary>
    public bool IsAwaited(string hash)
    {
        lock (_lock)
        {
            return _codes.TryGetValue(hash, out var slot) && slot.Waiting;
        }
    }

    /// <summary>The waiting requests <paramref name="supporter"/> may take: their groups' and those without a group.</summary>
    public IReadOnlyList<AdHocCustomer> WaitingFor(User supporter)
    {
        ArgumentNullException.ThrowIfNull(supporter);
        lock (_lock)
        {
            return _requests.Values
                .Where(r => !r.Taken.IsCompleted && MayTake(supporter, r))
                .OrderBy(r => r.Since)
                .ToList();
        }
    }

    /// <summary>Takes a waiting request for <paramref name="supporter"/>; null when it is gone, taken, or not in the supporter's groups.</summary>
    public AdHocCustomer? TryTakeRequest(string requestId, User supporter)
    {
        ArgumentNullException.ThrowIfNull(supporter);
        lock (_lock)
        {
            return _requests.TryGetValue(requestId, out var customer) && MayTake(supporter, customer) && customer.TryTake() ? customer : null;
        }
    }

    private static bool MayTake(User supporter, AdHocCustomer request) =>
        request.Group is null || supporter.Groups.Contains(request.Group, StringComparer.OrdinalIgnoreCase);

    private CodeSlot SlotOf(string hash)
    {
        if (!_codes.TryGetValue(hash, out var slot))
        {
            slot = new CodeSlot();
            _codes[hash] = slot;
        }

        return slot;
    }

    private sealed class CodeSlot
    {
        public TaskCompletionSource<AdHocCustomer> Customer { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public bool Waiting { get; set; }
    }
}
