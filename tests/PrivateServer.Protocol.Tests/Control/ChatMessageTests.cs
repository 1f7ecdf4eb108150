using PrivateServer.Protocol.Control;

namespace PrivateServer.Protocol.Tests.Control;

public sealed class ChatMessageTests
{
    [Theory]
    [InlineData("  hello  ", "hello")]
    [InlineData("two\nlines\r\n", "two lines")]
    [InlineData("bell\u0007 and escape\u001b[31m", "bell  and escape [31m")]
    [InlineData("   ", null)]
    [InlineData(null, null)]
    public void Clean_KeepsOneLineWithoutControlCharacters(string? text, string? expected)
    {
        ChatMessage.Clean(text).Should().Be(expected);
    }

    [Fact]
    public void Clean_CutsAtTheMaximumLength()
    {
        ChatMessage.Clean(new string('x', 5000)).Should().HaveLength(ChatMessage.MaximumLength);
    }
}
