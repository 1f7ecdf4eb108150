using System.Diagnostics;
using System.Globalization;

namespace PrivateServer.Tests;

/// <summary>
/// Property/fuzz rounds over a parser. In <c>make test</c> a fixed number of rounds with fixed seeds (the same inputs on
/// every run); in <c>make fuzz</c> (PRIVATESERVER_FUZZ_SECONDS=N) fresh random seeds until N seconds have passed. Each
/// round gets its own seed, and a failing round names it: PRIVATESERVER_FUZZ_SEED=S replays exactly that round.
/// </summary>
public static class Fuzz
{
    public const string SecondsVariable = "PRIVATESERVER_FUZZ_SECONDS";
    public const string SeedVariable = "PRIVATESERVER_FUZZ_SEED";

    public static void Run(int fixedSeed, int rounds, Action<Random> round)
    {
        ArgumentNullException.ThrowIfNull(round);
        foreach (var seed in Seeds(fixedSeed, rounds))
        {
            try
            {
                round(new Random(seed));
            }
            catch (Exception ex)
            {
                throw new FuzzRoundException(seed, ex);
            }
        }
    }

    public static async Task RunAsync(int fixedSeed, int rounds, Func<Random, Task> round)
    {
        ArgumentNullException.ThrowIfNull(round);
        foreach (var seed in Seeds(fixedSeed, rounds))
        {
            try
            {
                await round(new Random(seed));
            }
            catch (Exception ex)
            {
                throw new FuzzRoundException(seed, ex);
            }
        }
    }

    /// <summary>The seed to replay; else random seeds for the time budget; else fixedSeed, fixedSeed + 1, … (rounds of them).</summary>
    private static IEnumerable<int> Seeds(int fixedSeed, int rounds)
    {
        if (int.TryParse(Environment.GetEnvironmentVariable(SeedVariable), NumberStyles.Integer, CultureInfo.InvariantCulture, out var replay))
        {
            yield return replay;
            yield break;
        }

        if (int.TryParse(Environment.GetEnvironmentVariable(SecondsVariable), NumberStyles.Integer, CultureInfo.InvariantCulture, out var seconds) && seconds > 0)
        {
            var clock = Stopwatch.StartNew();
            var done = 0;
            while (clock.Elapsed < TimeSpan.FromSeconds(seconds))
            {
                yield return Random.Shared.Next();
                done++;
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"fuzz: {done} rounds in {clock.Elapsed.TotalSeconds:F0} s, no failure"));
            yield break;
        }

        for (var i = 0; i < rounds; i++)
        {
            yield return unchecked(fixedSeed + i);
        }
    }
}

/// <summary>A fuzz round failed; the message says how to replay it.</summary>
public sealed class FuzzRoundException(int seed, Exception inner)
    : Exception(string.Create(CultureInfo.InvariantCulture, $"fuzz round with seed {seed} failed (replay: {Fuzz.SeedVariable}={seed}): {inner.Message}"), inner)
{
    public int Seed { get; } = seed;
}
