/**
 * The plain JavaScript client example of the original WebSocket API document, character for character, except
 * two lines: `WebSocket` comes from the `ws` package (Node 20 has no global WebSocket) and the URL is the test
 * server's (from TICKWIRE_SEED_URL). Kept as text so that formatting tools leave it exactly as published.
 */
export const SEED_CLIENT_EXAMPLE = `import WebSocket from 'ws';

const ws = new WebSocket(process.env.TICKWIRE_SEED_URL);

ws.onopen = () => {
  console.log('Connected to WebSocket');

  // Subscribe to BTC/USDT 5-minute candles
  ws.send(JSON.stringify({
    type: 'subscribe',
    symbol: 'BTC/USDT',
    interval: '5m',
    initialBars: 100
  }));
};

ws.onmessage = (event) => {
  const message = JSON.parse(event.data);

  switch (message.type) {
    case 'initial':
      console.log(\`Received \${message.bars.length} initial candles\`);
      // Initialize your chart with message.bars
      break;

    case 'update':
      console.log('Candle update:', message.bar);
      // Update your chart with the new/updated candle
      break;

    case 'error':
      console.error('Error:', message.message);
      break;

    case 'pong':
      console.log('Pong received');
      break;
  }
};

ws.onerror = (error) => {
  console.error('WebSocket error:', error);
};

ws.onclose = () => {
  console.log('Disconnected from WebSocket');
};
`;
