"""Sample replies for lesson 04 (streaming)."""

from tools.samples.base import SampleReply

REPLIES: list[SampleReply] = [
    SampleReply(
        prompt=(
            "Explain what streaming an API response means, for someone who has only used APIs that "
            "answer all at once. Two short paragraphs."
        ),
        text=(
            "With an ordinary API call you send a request and then wait: the server does all its work, "
            "builds the complete answer, and sends it back in one piece. Nothing reaches you until the very "
            "end, so a reply that takes twenty seconds to produce is twenty seconds of silence.\n\n"
            "Streaming keeps the connection open and sends the answer in small pieces as soon as each one "
            "exists. A language model writes its reply a few tokens at a time, so with streaming you receive "
            "those tokens as they are generated and can show them, log them or act on them straight away. "
            "The full answer takes just as long to finish, but you start reading it within a second or so."
        ),
    ),
    SampleReply(
        prompt="In one sentence, what is a token?",
        text=(
            "A token is a small chunk of text, often a word or part of a word, that a language model reads "
            "and writes one at a time."
        ),
    ),
    SampleReply(
        prompt=(
            "In about 150 words, describe what happens between pressing Enter in a chat app and seeing the "
            "model's first word."
        ),
        text=(
            "When you press Enter, the app adds your message to the conversation and sends the whole "
            "history, with its system prompt, to the provider's API over HTTPS. The API checks your key and "
            "your rate limits, then queues the request for a server with the model loaded.\n\n"
            "That server turns the text into tokens and runs the entire prompt through the model in one "
            "pass. This prompt processing is the slow part before any output exists, and it grows with the "
            "length of the conversation. Only then can the model pick its first output token.\n\n"
            "If the app asked for a stream, that token is sent at once as a server-sent event, the app "
            "appends it to the screen, and you see the first word. Every later token repeats just the last "
            "step, which is why the rest of the reply flows steadily after the first word appears. Without "
            "streaming, you would wait for the final token before seeing anything."
        ),
    ),
]
