using System.ComponentModel.DataAnnotations;

namespace PrivateServer.Server.AdHoc;

/// <summary>Settings of ad-hoc sessions (section <c>Sessions</c>).</summary>
public sealed class AdHocOptions : IValidatableObject
{
    public const string SectionName = "Sessions";

    /// <summary>How long a session code can be used to join (default 10 minutes).</summary>
    [Range(typeof(TimeSpan), "00:00:05", "1.00:00:00")]
    public TimeSpan CodeLifetime { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// How long a customer's request waits in the queue for a supporter (default 1 hour). A customer who
    /// joined with a code waits <see cref="CodeLifetime"/> from joining.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:05", "1.00:00:00")]
    public TimeSpan RequestLifetime { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// The support terms an ad-hoc customer is shown and accepts, by two-letter language ("de", "en").
    /// The customer's module shows its own language, else English. Empty: no terms are shown (consent is still asked).
    /// </summary>
    public Dictionary<string, string> SupportTerms { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>How many customers may wait in the queue at once (all groups together).</summary>
    [Range(1, 10_000)]
    public int MaximumWaitingRequests { get; set; } = 200;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var (language, text) in SupportTerms)
        {
            if (language.Length != 2 || !language.All(char.IsAsciiLetterLower))
            {
                yield return new ValidationResult($"Sessions:SupportTerms: '{language}' is not a two-letter language code such as 'de' or 'en'");
            }

            if (text.Length > 16 * 1024)
            {
                yield return new ValidationResult($"Sessions:SupportTerms:{language} is longer than 16,384 characters");
            }
        }
    }
}
