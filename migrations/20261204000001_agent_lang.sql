-- An agent's chosen console language (a BCP 47 tag, e.g. 'zh-CN');
-- NULL: follow the browser.
ALTER TABLE agents ADD COLUMN lang TEXT;
