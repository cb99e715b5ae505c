-- Drives Neovim through the shipped kerasfix configuration, as a user's Neovim would run it:
-- Neovim >= 0.11 through lsp/kerasfix.lua (vim.lsp.enable), older ones through lua/kerasfix.lua
-- (vim.lsp.start_client). Opens $KERASFIX_FILE, waits for the diagnostics, runs
-- :KerasfixCheckWorkspace, asks for a hover, applies the quick fix for the first finding and
-- then writes the file with vim.g.kerasfix_fix_all_on_save on (fix all before the write), and
-- writes what it saw to $KERASFIX_RESULT as JSON for the test.

local modern = vim.fn.has('nvim-0.11') == 1
local v = vim.version()
local result = { version = ('%d.%d.%d'):format(v.major, v.minor, v.patch) }

local function finish(failure)
  result.failure = failure
  local file = assert(io.open(os.getenv('KERASFIX_RESULT'), 'w'))
  file:write(vim.json.encode(result))
  file:close()
  vim.cmd(failure and 'cquit 1' or 'qall!')
end

local function kerasfix_client(bufnr)
  local clients = modern and vim.lsp.get_clients({ bufnr = bufnr }) or vim.lsp.buf_get_clients(bufnr)
  for _, client in pairs(clients) do
    if client.name == 'kerasfix' then
      return client
    end
  end
end

-- The LSP diagnostic behind a vim.diagnostic item: 0.11 keeps it whole, 0.7 only its code.
local function as_lsp(item)
  local lsp = item.user_data and item.user_data.lsp or {}
  if modern and lsp.range then
    return lsp
  end
  return {
    range = {
      start = { line = item.lnum, character = item.col },
      ['end'] = { line = item.end_lnum, character = item.end_col },
    },
    severity = item.severity,
    message = item.message,
    source = item.source,
    code = lsp.code,
    data = lsp.data,
  }
end

local function run()
  vim.g.kerasfix_fix_all_on_save = true
  if modern then
    vim.lsp.enable('kerasfix')
  else
    require('kerasfix').setup()
  end
  vim.cmd('edit ' .. vim.fn.fnameescape(os.getenv('KERASFIX_FILE')))
  local bufnr = vim.api.nvim_get_current_buf()

  if not vim.wait(30000, function() return #vim.diagnostic.get(bufnr) >= 2 end, 50) then
    return finish('no diagnostics within 30 s; clients: ' .. vim.inspect(kerasfix_client(bufnr) ~= nil))
  end
  local client = kerasfix_client(bufnr)
  local diagnostics = vim.diagnostic.get(bufnr)
  table.sort(diagnostics, function(a, b) return a.lnum < b.lnum end)
  result.diagnostics = {}
  for _, item in ipairs(diagnostics) do
    local lsp = as_lsp(item)
    table.insert(result.diagnostics, {
      code = lsp.code,
      source = item.source,
      message = item.message,
      lnum = item.lnum,
      col = item.col,
      end_col = item.end_col,
    })
  end

  local notified = {}
  vim.notify = function(message)
    table.insert(notified, message)
  end
  vim.cmd('KerasfixCheckWorkspace')
  vim.wait(20000, function() return #notified > 0 end, 50)
  result.check_workspace = notified

  local first = diagnostics[1]
  vim.api.nvim_win_set_cursor(0, { first.lnum + 1, first.col })
  local position = vim.lsp.util.make_position_params(0, client.offset_encoding)
  local hovers = vim.lsp.buf_request_sync(bufnr, 'textDocument/hover', position, 10000) or {}
  for _, answer in pairs(hovers) do
    if answer.result and answer.result.contents then
      result.hover = answer.result.contents.value
    end
  end

  local params = vim.lsp.util.make_range_params(0, client.offset_encoding)
  params.context = { diagnostics = { as_lsp(first) }, only = { 'quickfix' } }
  local answers = vim.lsp.buf_request_sync(bufnr, 'textDocument/codeAction', params, 10000) or {}
  result.actions = {}
  for _, answer in pairs(answers) do
    for _, action in ipairs(answer.result or {}) do
      table.insert(result.actions, action.title)
      if action.kind == 'quickfix' and action.edit and not result.applied then
        vim.lsp.util.apply_workspace_edit(action.edit, client.offset_encoding)
        result.applied = action.title
      end
    end
  end
  result.after_quick_fix = vim.api.nvim_buf_get_lines(bufnr, 0, -1, false)

  vim.cmd('write')
  result.after_fix_all = vim.fn.readfile(vim.api.nvim_buf_get_name(bufnr))
  finish(nil)
end

local ok, error = pcall(run)
if not ok then
  finish('error: ' .. tostring(error))
end
